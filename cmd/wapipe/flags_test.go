package main

import (
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Every flag reads WAPIPE_<NAME>; a flag given on the command line wins over it.
func TestFlagsReadTheEnvironmentAndFlagsWin(t *testing.T) {
	t.Setenv("WAPIPE_STATE_DIR", "/from/env")
	t.Setenv("WAPIPE_GROUP", "group-from-env")
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.workerFlags(fs)
	if err := parse(fs, []string{"--group", "group-from-flag"}); err != nil {
		t.Fatal(err)
	}
	if c.stateDir != "/from/env" {
		t.Errorf("state dir %q, want it from WAPIPE_STATE_DIR", c.stateDir)
	}
	if c.group != "group-from-flag" {
		t.Errorf("group %q, want the flag to win over WAPIPE_GROUP", c.group)
	}
}

func TestBadEnvironmentValueIsAnError(t *testing.T) {
	t.Setenv("WAPIPE_ATTRIBUTION_WINDOW", "a week")
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.workerFlags(fs)
	if err := parse(fs, nil); err == nil {
		t.Fatal("an unparsable WAPIPE_ATTRIBUTION_WINDOW must be reported")
	}
}

// docker-compose.yml is for real deployments; it cannot run here, but it must be valid.
func TestDockerComposeFileIsValid(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("docker-compose is missing (make tools installs it)")
		}
		t.Skip("docker-compose not installed (make tools installs it)")
	}
	out, err := exec.Command("docker-compose", "-f", "../../docker-compose.yml", "config", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
}

func TestTenantMap(t *testing.T) {
	path := t.TempDir() + "/tenants"
	if err := os.WriteFile(path, []byte("# portfolio A\n102290129340398 acme\n102290129340399=acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := loadTenantMap(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.of("102290129340399") != "acme" || m.of("555") != "555" {
		t.Errorf("tenant map %v: want both WABAs in acme and unknown WABAs as their own tenant", m)
	}
}

// A command lists, and takes, only the flags it reads: the broker dials no brokers and
// produce writes no dead letters, so a user who passes those learns it at once.
func TestCommandsRefuseFlagsTheyWouldIgnore(t *testing.T) {
	ctx := t.Context()
	if err := brokerCmd(ctx, []string{"--brokers", "10.0.0.1:9092"}); err == nil {
		t.Error("broker took --brokers, which it ignores")
	}
	if err := produceCmd(ctx, []string{"--dlq-topic", "x", "-"}); err == nil {
		t.Error("produce took --dlq-topic, which it ignores")
	}
}

func TestRunRefusesAnUnknownLogLevel(t *testing.T) {
	if err := runCmd(t.Context(), []string{"--log-level", "verbose"}); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Errorf("run --log-level verbose: %v, want an error naming --log-level", err)
	}
}
