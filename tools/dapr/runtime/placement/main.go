// Package main builds Dapr's placement from the Go module proxy; the code lives upstream.
package main

import "github.com/dapr/dapr/cmd/placement/app"

func main() { app.Run() }
