// Command wapipe is the WhatsApp webhook stream worker: it consumes webhooks from Kafka,
// resolves every event to one stable contact (BSUID, phone, username) and writes chat,
// package-usage and voice reports, leads and identities to ClickHouse.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

type command func(ctx context.Context, args []string) error

var commands = map[string]command{
	"run":     runCmd,
	"migrate": migrateCmd,
	"prune":   pruneCmd,
	"broker":  brokerCmd,
	"produce": produceCmd,
	"demo":    demoCmd,
	"lookup":  lookupCmd,
	"gateway": gatewayCmd,
	"dlq":     dlqCmd,
	"forget":  forgetCmd,
}

var commandDocs = map[string]string{
	"run":     "The worker: joins the consumer group, processes webhooks, writes ClickHouse, until SIGINT/SIGTERM,\nthen drains (stop fetching, flush, commit) and exits 0. Before it joins the group it reads the identity\ntopic (--identity-topic) to its end, so it resolves every contact as the other workers do.",
	"migrate": "Creates or upgrades the ClickHouse database and tables. Idempotent; safe to run from every replica.\nWith --cluster NAME the tables are laid out on that ClickHouse cluster (Replicated <table>_local tables,\nDistributed tables under the plain names); --retention sets the report tables' TTL where the server has one.",
	"prune":   "Drops the months (partitions) of chat_report, package_usage_report and voice_report whose every row's\nfirst_event_at is older than --older-than, and prints each with its rows. identities, contact_keys and leads are\nnever pruned. --dry-run prints what it would drop.",
	"broker":  "An embedded Kafka broker for local use (in memory, real Kafka protocol), until stopped.",
	"produce": "Sends webhook bodies to the topic: .json files (one body each), .ndjson (one body a line), or - for stdin\n(one body when it is one JSON document, else one a line).",
	"demo":    "Shows the whole job on this machine: embedded broker, a generated webhook stream, the worker and a local\nClickHouse, then a summary of the reports.",
	"lookup":  "Finds a contact by --bsuid (or parent BSUID), --username, --phone or --contact-id (a merged-away one gives\nthe survivor) and prints all its keys and the contacts merged into it. Reads ClickHouse, or a running worker with\n--worker URL. Without --tenant, a key known in several tenants gives the contact seen last (from ClickHouse, stderr\nnames the others). Exit 1 when not found, 2 when the lookup could not be made (ClickHouse or the worker away, bad\nflags, stray arguments).\nWith --recipient [--purpose message|marketing|authentication|crm_notification] it prints, as JSON, whom to send\nto (the answer of the worker's GET /v1/recipient): exit 1 for an unknown key, 2 for a key known in several\ntenants without --tenant, 3 when the purpose needs a phone and none is known.",
}

var commandArgs = map[string]string{"produce": " FILE..."}

func init() {
	commandDocs["forget"] = "Erases a person's phone, username and profile name (wapipe's GDPR / PDP answer): finds the contact of\n--bsuid, --username, --phone or --contact-id in ClickHouse (with every contact merged into it), publishes an\nerasure record per contact on the identity topic (each worker wipes them from its state and /v1/contacts, and\nkeeps nothing older from other workers' snapshots or replays), waits --settle, then empties those columns in every\nClickHouse table and deletes the phone and username keys from contact_keys. Every row stays: counts do not change.\nTraffic after the erasure starts a fresh history from what it carries. Prints what it changed (--json). Exit 1\nwhen the key is unknown, 2 when the erasure could not be made (a key in several tenants without --tenant,\nClickHouse or Kafka away); running it again is harmless."
	commandDocs["dlq"] = "Dead letters of --dlq-topic: 'dlq list' prints them, 'dlq replay' sends them back to --topic once their cause\nis removed (a fix, a larger --max-body-bytes). 'wapipe help dlq' documents both."
	commandDocs["dlq list"] = "Prints each dead letter of --dlq-topic, oldest first (every partition, from its earliest offset to its end when\nthe command started), then exits: partition/offset, when it was dead-lettered, x-wapipe-source, x-wapipe-stage,\nx-received-at, the body size, replay_of (a replayed body that failed again: the letter it came from) and\nx-wapipe-error, quoted, last. Bodies hold personal data: they are printed only with --body. --json: one object\na line. A count goes to stderr."
	commandDocs["dlq replay"] = "Sends the dead letters of --dlq-topic whose x-wapipe-error matches --match (all without it) back to --topic,\noldest first, each with its key, its original bytes and its original headers without the x-wapipe-* ones, plus\nx-wapipe-replay naming the letter (dlq-topic/partition/offset); waits for the acknowledgements and prints how\nmany it sent (--dry-run: how many it would send, sending nothing). The workers process them as new input:\nwhat was counted before is still counted once.\nA replay never loops: each letter sent is marked replayed (an x-wapipe-replayed record on --dlq-topic, no dead\nletter: 'dlq list' skips it), and a replayed body that fails again is dead-lettered once more carrying its\nx-wapipe-replay. A later replay skips the letters replayed before and those dead letters of replays, unless\n--again (send them once the next fix is in; a letter with a newer dead letter of the same body is never sent,\nthe newer one stands for it). Letters cut to fit the topic (x-wapipe-original-size) are never sent: their\nbodies are incomplete."
}

// errNotFound makes the process exit 1 without an error message of its own.
var errNotFound = errors.New("not found")

// exitError makes the process exit with its code, after printing err.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

func main() {
	if len(os.Args) < 2 {
		help(os.Stderr)
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	if name == "version" || name == "--version" || name == "-version" {
		if len(args) > 0 {
			fmt.Fprintf(os.Stderr, "wapipe version: takes no arguments, got %q\n", args)
			os.Exit(2)
		}
		fmt.Println(version())
		return
	}
	if name == "help" || name == "-h" || name == "--help" {
		if len(args) > 0 {
			cmd, ok := commands[args[0]]
			if !ok {
				fmt.Fprintf(os.Stderr, "wapipe: unknown command %q\n\n", args[0])
				help(os.Stderr)
				os.Exit(2)
			}
			_ = cmd(context.Background(), []string{"-h"})
			return
		}
		help(os.Stdout)
		return
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "wapipe: unknown command %q\n\n", name)
		help(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd(ctx, args)
	var exit exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errNotFound):
		os.Exit(1)
	case errors.As(err, &exit):
		fmt.Fprintf(os.Stderr, "wapipe %s: %v\n", name, exit.err)
		os.Exit(exit.code)
	default:
		fmt.Fprintf(os.Stderr, "wapipe %s: %v\n", name, err)
		os.Exit(1)
	}
}

func help(out *os.File) {
	fmt.Fprintln(out, "wapipe: WhatsApp webhooks from Kafka to ClickHouse, one stable contact per person.\n\nusage: wapipe COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		// Every line of the description, the later ones under the first, so none is cut off.
		fmt.Fprintf(out, "  %-8s %s\n", n, strings.ReplaceAll(commandDocs[n], "\n", "\n           "))
	}
	fmt.Fprintf(out, "  %-8s %s\n", "version", "Prints the module version and the commit this binary was built from (also --version).")
	fmt.Fprintln(out, "\n'wapipe help COMMAND' documents a command and its flags.")
}
