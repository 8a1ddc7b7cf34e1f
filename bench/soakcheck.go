package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/wapipe/wapipe/gen"
)

// letterTally is what the dead-letter topic holds against the generator's poison bodies.
type letterTally struct {
	records      int            // dead-letter records read
	sources      int            // distinct x-wapipe-source: input records dead-lettered
	poisonLetter int            // poison bodies present at least once with a reason of their kind
	valid        int            // dead letters whose body is not poison
	badReason    int            // poison bodies whose every letter lacks a reason of their kind
	missing      map[string]int // poison bodies absent, by kind
	sample       map[string]string
}

// readLetters reads the whole dead-letter topic (every letter is durable before the offset
// it covers is committed, and the soak calls this once all are) and tallies it.
func readLetters(ctx context.Context, brokers string, poison map[string]string) (letterTally, error) {
	t := letterTally{missing: map[string]int{}, sample: map[string]string{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(dlqTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
	if err != nil {
		return t, err
	}
	defer cl.Close()
	sources := map[string]bool{}
	good := map[string]bool{} // poison body -> seen with a reason of its kind
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return t, ctx.Err()
		}
		n := 0
		fs.EachRecord(func(r *kgo.Record) {
			n++
			t.records++
			var reason, source string
			for _, h := range r.Headers {
				switch h.Key {
				case "x-wapipe-error":
					reason = string(h.Value)
				case "x-wapipe-source":
					source = string(h.Value)
				}
			}
			sources[source] = true
			kind, ok := poison[string(r.Value)]
			if !ok {
				t.valid++
				if t.valid <= 3 {
					fmt.Printf("  a body that is not poison was dead-lettered (source %s): %.200s\n", source, reason)
				}
				return
			}
			if t.sample[kind] == "" {
				t.sample[kind] = reason
			}
			good[string(r.Value)] = good[string(r.Value)] || (reason != "" && gen.PoisonReasons[kind].MatchString(reason))
		})
		if n == 0 {
			break // nothing for 5 s: the topic is read to its end
		}
	}
	t.sources = len(sources)
	for body, kind := range poison {
		switch ok, seen := good[body]; {
		case !seen:
			t.missing[kind]++
		case !ok:
			t.badReason++
		default:
			t.poisonLetter++
		}
	}
	return t, nil
}

// lostAndDoubled compares the row counts (with FINAL) against the generator's truth: rows
// short of it are lost, rows over it doubled. doubled also counts rows that FINAL leaves
// twice for one key (count() FINAL above uniqExact of the key).
func lostAndDoubled(rs []checkResult, extra map[string]int64) (lost, doubled int64) {
	rows := map[string]bool{"chat_report rows": true, "package_usage_report rows": true, "voice_report rows": true,
		"leads": true, "contacts": true}
	for _, r := range rs {
		if !rows[r.what] || r.err != nil {
			continue
		}
		if r.got < r.want {
			lost += r.want - r.got
		} else {
			doubled += r.got - r.want
		}
	}
	for _, n := range extra {
		doubled += n
	}
	return lost, doubled
}
