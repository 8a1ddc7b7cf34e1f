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

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := t.TempDir() + "/wapipe.yaml"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// flags > environment > config file > defaults, for every kind of flag.
func TestConfigFilePrecedence(t *testing.T) {
	path := writeConfig(t, `# a deployment's file
brokers: [k1:9092, k2:9092]
state-dir: /var/lib/wapipe
group: group-from-file
listen: 0.0.0.0:9464
attribution-window: 72h
batch-rows: 1000
migrate: false
`)
	t.Setenv("WAPIPE_GROUP", "group-from-env")
	t.Setenv("WAPIPE_LISTEN", "127.0.0.1:1")
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.workerFlags(fs)
	rows := fs.Int("batch-rows", 25_000, "")
	migrate := fs.Bool("migrate", true, "")
	if err := parse(fs, []string{"--config", path, "--listen", "127.0.0.1:2"}); err != nil {
		t.Fatal(err)
	}
	for _, g := range []struct{ what, got, want string }{
		{"brokers (a list, from the file)", c.brokers, "k1:9092,k2:9092"},
		{"state-dir (from the file)", c.stateDir, "/var/lib/wapipe"},
		{"group (the environment wins over the file)", c.group, "group-from-env"},
		{"listen (the flag wins over both)", c.listen, "127.0.0.1:2"},
		{"attribution-window (from the file)", c.attributionWindow.String(), "72h0m0s"},
		{"topic (default, in neither)", c.topic, "whatsapp.webhooks"},
	} {
		if g.got != g.want {
			t.Errorf("%s: %q, want %q", g.what, g.got, g.want)
		}
	}
	if *rows != 1000 || *migrate {
		t.Errorf("batch-rows %d, migrate %v: want 1000 and false from the file", *rows, *migrate)
	}
}

// WAPIPE_CONFIG names the file like any other flag's variable.
func TestConfigFileFromTheEnvironment(t *testing.T) {
	t.Setenv("WAPIPE_CONFIG", writeConfig(t, "database: analytics\n"))
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var c common
	c.clickhouseFlags(fs)
	if err := parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if c.database != "analytics" {
		t.Errorf("database %q, want analytics from WAPIPE_CONFIG's file", c.database)
	}
}

// One file serves every command: migrate leaves run's state-dir alone. A key that no command
// takes is an error naming it (and the flag it probably meant); so is a bad value.
func TestConfigFileKeys(t *testing.T) {
	parseWith := func(text string) error {
		fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
		var c common
		c.clickhouseFlags(fs)
		return parse(fs, []string{"--config", writeConfig(t, text)})
	}
	if err := parseWith("state-dir: /var/lib/wapipe\nclickhouse: ch1:9000\n"); err != nil {
		t.Errorf("a key of another command (run's state-dir): %v, want it left alone", err)
	}
	if err := parseWith("clickhouse: ch1:9000\nstate_dir: /var/lib/wapipe\n"); err == nil ||
		!strings.Contains(err.Error(), `unknown key "state_dir"`) || !strings.Contains(err.Error(), "state-dir") {
		t.Errorf("unknown key: %v, want an error naming state_dir and suggesting state-dir", err)
	}
	if err := parseWith("clickhousee: x\n"); err == nil || !strings.Contains(err.Error(), `"clickhousee"`) {
		t.Errorf("unknown key: %v, want an error naming clickhousee", err)
	}
	for _, bad := range []string{"database: {a: b}\n", "- a list\n", "database: [unclosed\n", "database: a\ndatabase: b\n"} {
		if err := parseWith(bad); err == nil {
			t.Errorf("config %q: no error", bad)
		}
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c common
	c.workerFlags(fs)
	if err := parse(fs, []string{"--config", writeConfig(t, "attribution-window: a week\n")}); err == nil ||
		!strings.Contains(err.Error(), "attribution-window") {
		t.Errorf("bad value: %v, want an error naming attribution-window", err)
	}
	if err := parseWith(""); err != nil {
		t.Errorf("an empty file: %v", err)
	}
	if err := parse(flag.NewFlagSet("migrate", flag.ContinueOnError), []string{"--config", t.TempDir() + "/missing.yaml"}); err == nil {
		t.Error("a missing config file: no error")
	}
}

// Every command that takes flags takes --config.
func TestEveryCommandTakesConfig(t *testing.T) {
	for name, cmd := range commands {
		var has bool
		flagCollector = func(fs *flag.FlagSet) { has = fs.Lookup(configFlag) != nil }
		_ = cmd(t.Context(), nil)
		flagCollector = nil
		if !has {
			t.Errorf("wapipe %s takes no --config", name)
		}
	}
	if !knownFlags()["state-dir"] || !knownFlags()["addr"] || knownFlags()["no-such-flag"] {
		t.Errorf("known flags: %v", knownFlags())
	}
}
