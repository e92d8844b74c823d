// Package main builds Dapr's scheduler from the Go module proxy; the code lives upstream.
package main

import "github.com/dapr/dapr/cmd/scheduler/app"

func main() { app.Run() }
