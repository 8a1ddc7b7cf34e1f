package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
)

func produceCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("produce", flag.ContinueOnError)
	var c common
	c.brokersFlag(fs)
	c.topicFlag(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("name at least one .json or .ndjson file, or - for stdin")
	}
	link, err := c.kafkaLink(newLogger("warn"))
	if err != nil {
		return exitError{2, err}
	}
	w := newProducer(split(c.brokers), c.topic, link.Transport)
	defer w.Close()
	sent := 0
	for _, name := range fs.Args() {
		bodies, err := readBodies(name)
		if err != nil {
			return err
		}
		msgs := make([]kafka.Message, len(bodies))
		for i, b := range bodies {
			msgs[i] = kafka.Message{Key: []byte(firstPhoneNumberID(b)), Value: b,
				Headers: []kafka.Header{{Key: "x-received-at", Value: []byte(time.Now().UTC().Format(time.RFC3339))}}}
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			return fmt.Errorf("%s: %w", name, link.Diagnose(ctx, split(c.brokers), err))
		}
		sent += len(msgs)
	}
	fmt.Printf("produced %d webhook(s) to %s\n", sent, c.topic)
	return nil
}

// newProducer writes to topic through transport (TLS and SASL; nil: plaintext).
func newProducer(brokers []string, topic string, transport kafka.RoundTripper) *kafka.Writer {
	return &kafka.Writer{Addr: kafka.TCP(brokers...), Topic: topic, Balancer: &kafka.Hash{}, Transport: transport,
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchSize: 1000,
		// Room for Meta's largest bodies (3 MB); the cluster's message.max.bytes has the last word.
		BatchBytes: maxBrokerMessageBytes, AllowAutoTopicCreation: true}
}

// readBodies reads one body per .json file and one per line of .ndjson. Stdin is read as
// one body when it is one JSON document (a pretty-printed example piped in), else as NDJSON.
func readBodies(name string) ([][]byte, error) {
	if name == "-" {
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return nil, err
		}
		if json.Valid(b) {
			return [][]byte{b}, nil
		}
		return lines(bytes.NewReader(b))
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !strings.HasSuffix(name, ".ndjson") {
		b, err := io.ReadAll(f)
		return [][]byte{b}, err
	}
	return lines(f)
}

// lines returns the non-blank lines of r, one body each (a line that is not JSON is sent
// as it is: the worker dead-letters it, which is how bad input is tried).
func lines(r io.Reader) ([][]byte, error) {
	var bodies [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), maxBrokerMessageBytes)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			bodies = append(bodies, bytes.Clone(line))
		}
	}
	return bodies, sc.Err()
}

// firstPhoneNumberID is the key wapipe produce uses (contract section 2): the phone number
// of the first change, so one business number's traffic stays in order on one partition.
func firstPhoneNumberID(body []byte) string {
	const field = `"phone_number_id"`
	i := bytes.Index(body, []byte(field))
	if i < 0 {
		return ""
	}
	rest := body[i+len(field):]
	start := bytes.IndexByte(rest, '"')
	if start < 0 {
		return ""
	}
	end := bytes.IndexByte(rest[start+1:], '"')
	if end < 0 {
		return ""
	}
	return string(rest[start+1 : start+1+end])
}
