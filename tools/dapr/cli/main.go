// Package main builds the dapr CLI from the Go module proxy; the code lives upstream.
package main

import "github.com/dapr/cli/cmd"

var version = "1.12.0"

func main() { cmd.Execute(version, "1.0") }
