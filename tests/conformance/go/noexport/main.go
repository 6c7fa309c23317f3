package handler

import "github.com/open-runtimes/types-for-go/v4/openruntimes"

// Handler is not Main: the build of a deployment with this entrypoint must fail.
func Handler(Context openruntimes.Context) openruntimes.Response {
	return Context.Res.Text("never")
}
