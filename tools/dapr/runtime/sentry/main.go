// Package main builds Dapr's sentry (the mesh's certificate authority) from the Go module proxy; the code lives upstream.
package main

import "github.com/dapr/dapr/cmd/sentry/app"

func main() { app.Run() }
