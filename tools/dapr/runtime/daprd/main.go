// Package main builds Dapr's daprd from the Go module proxy; the code lives upstream.
package main

import "github.com/dapr/dapr/cmd/daprd/app"

func main() { app.Run() }
