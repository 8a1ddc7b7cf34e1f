package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionNamesTheModuleVersionAndCommit(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wapipe/wapipe", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "f7a4a30c0ffee"}, {Key: "vcs.time", Value: "2026-12-07T12:00:00Z"},
			{Key: "vcs.modified", Value: "true"}}}
	got := versionOf(info, "ignored when the toolchain recorded one")
	for _, want := range []string{"wapipe v1.4.0", "commit f7a4a30c0ffee", "2026-12-07T12:00:00Z", "uncommitted changes", "go1.26.8"} {
		if !strings.Contains(got, want) {
			t.Errorf("version %q lacks %q", got, want)
		}
	}
	// go build in a checkout: the version is (devel); without VCS stamping the commit is unknown, and says why.
	if strings.Contains(got, "ignored") {
		t.Errorf("version %q: the fallback commit overrode the recorded one", got)
	}
	got = versionOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "")
	if !strings.HasPrefix(got, "wapipe devel, commit unknown") || !strings.Contains(got, "make build") {
		t.Errorf("version without build settings: %q", got)
	}
	// make build passes the commit where the toolchain records none (a git worktree).
	if got = versionOf(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "abc123-dirty"); !strings.HasPrefix(got, "wapipe devel, commit abc123-dirty") {
		t.Errorf("version with make build's commit: %q", got)
	}
}
