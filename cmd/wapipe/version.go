package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// buildCommit is the commit `make build` passes with -ldflags "-X main.buildCommit=...", for
// checkouts where the toolchain records none: a git worktree (its .git is a file, which go build
// does not take for a repository) or GOFLAGS=-buildvcs=false.
var buildCommit string

// version describes this binary: the module version and the VCS commit it was built from, as
// the Go toolchain recorded them (runtime/debug.ReadBuildInfo). `go build` in a git checkout
// records the commit (unless -buildvcs=false); `go install ...@v1.2.3` records the version.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "wapipe: no build information in this binary (built without module support)"
	}
	return versionOf(info, buildCommit)
}

func versionOf(info *debug.BuildInfo, fallbackCommit string) string {
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel" // built from a checkout rather than installed at a released version
	}
	var commit, at string
	modified := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	out := "wapipe " + v
	switch {
	case commit == "" && fallbackCommit != "":
		out += ", commit " + fallbackCommit
	case commit == "":
		out += ", commit unknown (built without VCS information: make build records it)"
	default:
		out += ", commit " + commit
		if at != "" {
			out += " (" + at + ")"
		}
		if modified {
			out += " with uncommitted changes"
		}
	}
	goVersion := info.GoVersion
	if goVersion == "" {
		goVersion = runtime.Version()
	}
	return fmt.Sprintf("%s, %s %s/%s", out, goVersion, runtime.GOOS, runtime.GOARCH)
}
