package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/clickhouse"
	"github.com/wapipe/wapipe/stages/report"
)

// common are the flags of contract section 1, shared by the commands that need them.
type common struct {
	brokers, topic, group, dlqTopic string
	clickhouse, database            string
	stateDir, listen                string
	attributionWindow               time.Duration
	startOffset                     string
	tenantMap                       string
	logLevel                        string

	apiToken, apiTokenFile string // the worker's API token (run), or the one to send it (lookup --worker)
	pprof                  bool

	kafkaSecurity      connect.Kafka      // registered with --brokers: every command that dials Kafka
	clickhouseSecurity connect.ClickHouse // registered with --clickhouse
}

func (c *common) kafkaFlags(fs *flag.FlagSet) {
	c.brokersFlag(fs)
	c.topicFlag(fs)
	c.dlqTopicFlag(fs)
}

// Each command lists only the flags it reads: the broker has no --brokers to dial, and
// produce writes no dead letters.
func (c *common) brokersFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.brokers, "brokers", "127.0.0.1:9092", "Kafka bootstrap addresses, comma-separated")
	c.kafkaSecurity.Register(fs)
}

func (c *common) topicFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.topic, "topic", "whatsapp.webhooks", "input topic")
}

func (c *common) dlqTopicFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.dlqTopic, "dlq-topic", "whatsapp.webhooks.dlq", "where undecodable or invalid input goes")
}

func (c *common) clickhouseFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.clickhouse, "clickhouse", "127.0.0.1:9000", "ClickHouse native-protocol address(es), comma-separated")
	fs.StringVar(&c.database, "database", "wapipe", "ClickHouse database")
	c.clickhouseSecurity.Register(fs)
}

// kafkaLink is the dialer and transport of every Kafka client of the command (contract 7).
func (c *common) kafkaLink(log *slog.Logger) (*connect.KafkaLink, error) {
	return c.kafkaSecurity.Link(log)
}

// clickhouseConfig is the ClickHouse client configuration of --clickhouse, --database and the
// user and TLS flags: what every command that talks to ClickHouse opens.
func (c *common) clickhouseConfig(log *slog.Logger) (clickhouse.Config, error) {
	auth, err := c.clickhouseSecurity.Auth(log)
	if err != nil {
		return clickhouse.Config{}, err
	}
	return clickhouse.Config{Addrs: split(c.clickhouse), Database: c.database,
		Username: auth.Username, Password: auth.Password, TLS: auth.TLS}, nil
}

func (c *common) workerFlags(fs *flag.FlagSet) {
	c.kafkaFlags(fs)
	c.clickhouseFlags(fs)
	fs.StringVar(&c.group, "group", "wapipe", "consumer group id")
	fs.StringVar(&c.stateDir, "state-dir", "./data", "the worker's local Badger state")
	fs.StringVar(&c.listen, "listen", "127.0.0.1:9464", "HTTP address for /metrics, /healthz, /readyz and the lookup API")
	fs.DurationVar(&c.attributionWindow, "attribution-window", report.DefaultAttributionWindow, "how long after an ad click later traffic is attributed to that ad")
	fs.StringVar(&c.startOffset, "start-offset", "earliest", "where a group with no committed offset starts: earliest or latest")
	fs.StringVar(&c.tenantMap, "tenant-map", "", "file mapping WhatsApp Business Account ids to a tenant (lines: WABA_ID TENANT)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	c.apiFlags(fs, "when set, /v1/ and /debug/pprof/ require 'Authorization: Bearer <token>'; /metrics, /healthz and /readyz stay open")
	fs.BoolVar(&c.pprof, "pprof", false, "serve /debug/pprof/ on --listen (behind --api-token when set)")
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// envName is the environment variable of a flag: --state-dir is WAPIPE_STATE_DIR.
func envName(flagName string) string {
	return "WAPIPE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse parses args, then fills every flag not given on the command line from its
// environment variable, else from the config file (--config, config.go). Flags win over the
// environment, which wins over the file.
func parse(fs *flag.FlagSet, args []string) error {
	if fs.Lookup(configFlag) == nil {
		fs.String(configFlag, "", "read flags from this YAML file (keys are flag names: state-dir: /var/lib/wapipe); flags and WAPIPE_* variables win over it")
	}
	if flagCollector != nil {
		flagCollector(fs)
		return errCollected
	}
	fs.Usage = func() { usage(fs) }
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(os.Stdout) // asked-for help is output, not an error
		}
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	path := fs.Lookup(configFlag).Value.String()
	if v, ok := os.LookupEnv(envName(configFlag)); ok && !given[configFlag] {
		path = v
	}
	file := map[string]string{}
	if path != "" {
		var err error
		if file, err = loadConfig(path); err != nil {
			return err
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil || f.Name == configFlag {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %v", envName(f.Name), v, e)
			}
		} else if v, ok := file[f.Name]; ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("config %s: %s: %q: %v", path, f.Name, v, e)
			}
		}
	})
	return err
}

func usage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprintf(out, "usage: wapipe %s [flags]%s\n\n%s\n\nflags (each also read from WAPIPE_<NAME>):\n",
		fs.Name(), commandArgs[fs.Name()], commandDocs[fs.Name()])
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(out, "  --%s (%s, default %q)\n      %s\n", f.Name, envName(f.Name), f.DefValue, f.Usage)
	})
}
