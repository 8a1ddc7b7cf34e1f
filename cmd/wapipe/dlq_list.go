package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wapipe/wapipe/sinks/deadletter"
)

type listOptions struct {
	limit int
	json  bool
	body  bool
}

func dlqListCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dlq list", flag.ContinueOnError)
	var c common
	var o listOptions
	c.brokersFlag(fs)
	c.dlqTopicFlag(fs)
	fs.IntVar(&o.limit, "limit", 0, "print at most this many dead letters (the oldest); 0: all")
	fs.BoolVar(&o.json, "json", false, "one JSON object a line (partition, offset, time, key, source, stage, error, received_at, body_size, ...)")
	fs.BoolVar(&o.body, "body", false, "print the bodies too (they hold personal data: phones, names, messages)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("stray arguments %q", fs.Args())}
	}
	sec, err := c.kafkaLink(newLogger("warn"))
	if err != nil {
		return exitError{2, err}
	}
	k := newKafkaLink(split(c.brokers), sec)
	defer k.close()
	n, err := listLetters(ctx, k, c.dlqTopic, o, os.Stdout)
	if errors.Is(err, errNoTopic) {
		fmt.Fprintf(os.Stderr, "no dead letters: topic %s does not exist\n", c.dlqTopic)
		return nil
	}
	if err != nil {
		return sec.Diagnose(ctx, split(c.brokers), err)
	}
	fmt.Fprintf(os.Stderr, "%d dead letter(s) in %s\n", n, c.dlqTopic)
	return nil
}

// listedLetter is a dead letter as dlq list --json prints it.
type listedLetter struct {
	Partition    int       `json:"partition"`
	Offset       int64     `json:"offset"`
	Time         time.Time `json:"time"` // when it was dead-lettered (the record's time)
	Key          string    `json:"key"`
	Source       string    `json:"source"`
	Stage        string    `json:"stage"`
	Error        string    `json:"error"`
	ReceivedAt   string    `json:"received_at"`
	BodySize     int       `json:"body_size"`
	OriginalSize int       `json:"original_size,omitempty"` // a cut body: the size it had
	ReplayOf     string    `json:"replay_of,omitempty"`     // a replayed body that failed again: the letter it came from
	Body         *string   `json:"body,omitempty"`
	BodyBase64   []byte    `json:"body_base64,omitempty"` // a body that is not UTF-8
}

// listLetters prints the dead letters of topic, oldest first, and returns how many.
func listLetters(ctx context.Context, k *kafkaLink, topic string, o listOptions, out io.Writer) (int, error) {
	n := 0
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	err := k.scan(ctx, topic, o.body, func(l *letter) error {
		if l.marker() {
			return nil
		}
		if o.limit > 0 && n >= o.limit {
			return io.EOF
		}
		n++
		v := describe(l, o.body)
		if o.json {
			return enc.Encode(v)
		}
		return printLetter(out, v)
	})
	return n, err
}

func describe(l *letter, body bool) listedLetter {
	v := listedLetter{Partition: l.partition, Offset: l.offset, Time: l.time.UTC(), Key: string(l.key),
		Source: l.header(deadletter.HeaderSource), Stage: l.header(deadletter.HeaderStage),
		Error: l.header(deadletter.HeaderError), ReceivedAt: l.header("x-received-at"), BodySize: l.size,
		ReplayOf: l.header(deadletter.HeaderReplay)}
	v.OriginalSize, _ = strconv.Atoi(l.header(deadletter.HeaderOriginalSize))
	if body {
		if utf8.Valid(l.value) {
			s := string(l.value)
			v.Body = &s
		} else {
			v.BodyBase64 = l.value
		}
	}
	return v
}

// printLetter writes one line per letter (the reason last, quoted: it may hold anything),
// then with --body the body as it is on the next line.
func printLetter(out io.Writer, v listedLetter) error {
	line := fmt.Sprintf("%d/%d %s source=%s stage=%s received_at=%s body_size=%d",
		v.Partition, v.Offset, v.Time.Format(time.RFC3339), orNone(v.Source), orNone(v.Stage), orNone(v.ReceivedAt), v.BodySize)
	if v.OriginalSize > 0 {
		line += fmt.Sprintf(" original_size=%d", v.OriginalSize)
	}
	if v.ReplayOf != "" {
		line += " replay_of=" + v.ReplayOf
	}
	line += " error=" + strconv.Quote(v.Error)
	if _, err := fmt.Fprintln(out, line); err != nil {
		return err
	}
	switch {
	case v.Body != nil:
		_, err := fmt.Fprintln(out, *v.Body)
		return err
	case v.BodyBase64 != nil:
		_, err := fmt.Fprintf(out, "(not UTF-8; use --json for its bytes) %q\n", v.BodyBase64)
		return err
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
