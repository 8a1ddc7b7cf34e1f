package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/sinks/deadletter"
)

type replayOptions struct {
	match  *regexp.Regexp // nil: every letter
	dryRun bool
	again  bool
}

func dlqReplayCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dlq replay", flag.ContinueOnError)
	var c common
	var o replayOptions
	var match string
	c.brokersFlag(fs)
	c.dlqTopicFlag(fs)
	fs.StringVar(&c.topic, "topic", "whatsapp.webhooks", "where the bodies are sent back to (the workers' input topic)")
	fs.StringVar(&match, "match", "", "replay only the dead letters whose x-wapipe-error matches this regular expression (RE2); empty: all")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print how many would be sent, send nothing")
	fs.BoolVar(&o.again, "again", false, "also send the letters replayed before and the dead letters of replays that failed again (once a further fix is in)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return exitError{2, fmt.Errorf("stray arguments %q", fs.Args())}
	}
	if match != "" {
		re, err := regexp.Compile(match)
		if err != nil {
			return exitError{2, fmt.Errorf("--match: %w", err)}
		}
		o.match = re
	}
	sec, err := c.kafkaLink(newLogger("warn"))
	if err != nil {
		return exitError{2, err}
	}
	k := newKafkaLink(split(c.brokers), sec)
	defer k.close()
	res, err := replay(ctx, k, c.dlqTopic, c.topic, o)
	if errors.Is(err, errNoTopic) {
		fmt.Fprintf(os.Stderr, "no dead letters: topic %s does not exist\n", c.dlqTopic)
		err = nil
	}
	fmt.Println(res.summary(c.topic, o.dryRun))
	return sec.Diagnose(ctx, split(c.brokers), err)
}

// replayResult counts what a replay did with the letters --match selected.
type replayResult struct {
	sent       int // or, with --dry-run, would send
	replayed   int // skipped: replayed before (a marker names them)
	failures   int // skipped: dead letters of a replayed body
	superseded int // skipped: replayed, failed again: the newer letter stands for them
	cut        int // skipped: the body was cut to fit the topic
}

func (r replayResult) summary(topic string, dryRun bool) string {
	verb := "sent"
	if dryRun {
		verb = "would send"
	}
	s := fmt.Sprintf("%s %d dead letter(s) to %s", verb, r.sent, topic)
	var skipped []string
	if r.replayed > 0 {
		skipped = append(skipped, fmt.Sprintf("%d replayed before", r.replayed))
	}
	if r.failures > 0 {
		skipped = append(skipped, fmt.Sprintf("%d failed again after a replay", r.failures))
	}
	if r.superseded > 0 {
		skipped = append(skipped, fmt.Sprintf("%d with a newer dead letter of the same body", r.superseded))
	}
	if r.replayed+r.failures > 0 {
		skipped[len(skipped)-1] += " (--again sends them)"
	}
	if r.cut > 0 {
		skipped = append(skipped, fmt.Sprintf("%d cut to fit the topic (their bodies are incomplete)", r.cut))
	}
	if len(skipped) > 0 {
		s += "; skipped " + strings.Join(skipped, ", ")
	}
	return s
}

// replay sends the selected dead letters of dlqTopic to topic (see the command's help for
// which are selected), each with its key, its bytes and its headers without the x-wapipe-*
// ones plus x-wapipe-replay naming it; after each chunk is acknowledged, it marks the chunk's
// letters replayed with one x-wapipe-replayed record each on dlqTopic.
func replay(ctx context.Context, k *kafkaLink, dlqTopic, topic string, o replayOptions) (replayResult, error) {
	var res replayResult
	chosen, err := chooseReplays(ctx, k, dlqTopic, o, &res)
	if err != nil || o.dryRun || len(chosen) == 0 {
		res.sent = len(chosen)
		return res, err
	}
	small := k.writer(topic, 1_000_000, 100) // Kafka's default message.max.bytes is 1 MB a request
	large := k.writer(topic, 16<<20, 1)      // a body over 900 KiB goes alone, for topics that take it
	marks := k.writer(dlqTopic, 1_000_000, 1000)
	defer small.Close()
	defer large.Close()
	defer marks.Close()
	var pending, pendingMarks []kafka.Message
	pendingBytes := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		w := small
		if pendingBytes > deadletter.MaxValueBytes {
			w = large
		}
		if err := w.WriteMessages(ctx, pending...); err != nil {
			return fmt.Errorf("sending to %s: %w", topic, err)
		}
		if err := marks.WriteMessages(ctx, pendingMarks...); err != nil {
			return fmt.Errorf("%d sent; marking them replayed on %s failed (a next replay sends them again; counted once): %w",
				len(pending), dlqTopic, err)
		}
		res.sent += len(pending)
		pending, pendingMarks, pendingBytes = pending[:0], pendingMarks[:0], 0
		return nil
	}
	left := len(chosen)
	err = k.scan(ctx, dlqTopic, true, func(l *letter) error {
		id := l.id(dlqTopic)
		if !chosen[id] {
			return nil
		}
		if len(l.value) > deadletter.MaxValueBytes || pendingBytes+len(l.value) > 512<<10 || len(pending) == 100 {
			if err := flush(); err != nil {
				return err
			}
		}
		pending = append(pending, kafka.Message{Key: l.key, Value: l.value, Headers: deadletter.ReplayHeaders(l.headers, id)})
		pendingMarks = append(pendingMarks, kafka.Message{Key: l.key, Headers: []kafka.Header{{Key: deadletter.HeaderReplayed, Value: []byte(id)}}})
		pendingBytes += len(l.value)
		if left--; left == 0 {
			return io.EOF
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, flush()
}

// chooseReplays reads the dead-letter topic once, without bodies, and returns the ids of the
// letters to send: those --match selects, less the ones cut to fit, the ones a newer letter of
// the same body stands for (it was replayed and failed again) and, unless --again, the ones
// replayed before and the dead letters of replays.
func chooseReplays(ctx context.Context, k *kafkaLink, dlqTopic string, o replayOptions, res *replayResult) (map[string]bool, error) {
	type candidate struct {
		id              string
		cut, fromReplay bool
	}
	var candidates []candidate
	replayed, superseded := map[string]bool{}, map[string]bool{}
	err := k.scan(ctx, dlqTopic, false, func(l *letter) error {
		if l.marker() {
			replayed[l.header(deadletter.HeaderReplayed)] = true
			return nil
		}
		from := l.header(deadletter.HeaderReplay)
		if from != "" {
			superseded[from] = true
		}
		if o.match != nil && !o.match.MatchString(l.header(deadletter.HeaderError)) {
			return nil
		}
		candidates = append(candidates, candidate{id: l.id(dlqTopic), cut: l.has(deadletter.HeaderOriginalSize), fromReplay: from != ""})
		return nil
	})
	if err != nil {
		return nil, err
	}
	chosen := map[string]bool{}
	for _, c := range candidates {
		switch {
		case c.cut:
			res.cut++
		case superseded[c.id]:
			res.superseded++
		case o.again:
			chosen[c.id] = true
		case replayed[c.id]:
			res.replayed++
		case c.fromReplay:
			res.failures++
		default:
			chosen[c.id] = true
		}
	}
	return chosen, nil
}
