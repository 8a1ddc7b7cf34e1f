package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/segmentio/kafka-go"
)

// errNoTopic: the dead-letter topic does not exist yet (nothing was ever dead-lettered).
var errNoTopic = errors.New("no such topic")

// scan calls each for every record of topic, from each partition's earliest offset to its end
// as it was when scan began (records produced meanwhile are left for the next run), oldest
// first across partitions: by record time, then partition and offset. Bodies are kept only
// when bodies is set (a letter's size is always known). each may stop the scan with io.EOF.
func (k *kafkaLink) scan(ctx context.Context, topic string, bodies bool, each func(*letter) error) error {
	cursors, err := k.cursors(ctx, topic, bodies)
	if err != nil {
		return err
	}
	for {
		var next *cursor
		for _, c := range cursors {
			l, err := c.peek(ctx, k.client)
			if err != nil {
				return err
			}
			if l != nil && (next == nil || older(l, next.buf[0])) {
				next = c
			}
		}
		if next == nil {
			return nil
		}
		l := next.buf[0]
		next.buf = next.buf[1:]
		if err := each(l); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func older(a, b *letter) bool {
	if !a.time.Equal(b.time) {
		return a.time.Before(b.time)
	}
	if a.partition != b.partition {
		return a.partition < b.partition
	}
	return a.offset < b.offset
}

// cursors returns one cursor per partition of topic, each from its earliest offset to its
// end now.
func (k *kafkaLink) cursors(ctx context.Context, topic string, bodies bool) ([]*cursor, error) {
	md, err := k.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	if len(md.Topics) != 1 || errors.Is(md.Topics[0].Error, kafka.UnknownTopicOrPartition) {
		return nil, fmt.Errorf("%s: %w", topic, errNoTopic)
	}
	if err := md.Topics[0].Error; err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", topic, err)
	}
	var reqs []kafka.OffsetRequest
	for _, p := range md.Topics[0].Partitions {
		reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
	}
	offs, err := k.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("offsets of %s: %w", topic, err)
	}
	var cs []*cursor
	for _, p := range offs.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("offsets of %s partition %d: %w", topic, p.Partition, p.Error)
		}
		if p.FirstOffset < p.LastOffset {
			cs = append(cs, &cursor{topic: topic, partition: p.Partition, next: p.FirstOffset, end: p.LastOffset, bodies: bodies})
		}
	}
	return cs, nil
}

// cursor reads one partition from next up to (not including) end, a fetch at a time.
type cursor struct {
	topic     string
	partition int
	next, end int64
	bodies    bool
	buf       []*letter
}

// peek returns the partition's next record, fetching when none is buffered; nil at the end.
func (c *cursor) peek(ctx context.Context, client *kafka.Client) (*letter, error) {
	if len(c.buf) > 0 {
		return c.buf[0], nil
	}
	if c.next >= c.end {
		return nil, nil
	}
	resp, err := client.Fetch(ctx, &kafka.FetchRequest{Topic: c.topic, Partition: c.partition, Offset: c.next,
		MinBytes: 1, MaxBytes: 1 << 20, MaxWait: 500 * time.Millisecond})
	if err == nil {
		err = resp.Error
	}
	if errors.Is(err, kafka.OffsetOutOfRange) && resp != nil && resp.LogStartOffset > c.next {
		c.next = resp.LogStartOffset // retention removed letters since the scan began
		return c.peek(ctx, client)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s partition %d at offset %d: %w", c.topic, c.partition, c.next, err)
	}
	for {
		r, err := resp.Records.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s partition %d: %w", c.topic, c.partition, err)
		}
		if r.Offset < c.next || r.Offset >= c.end { // a batch may start before the offset asked for
			continue
		}
		l, err := readLetter(c.partition, r, c.bodies)
		if err != nil {
			return nil, fmt.Errorf("reading %s partition %d offset %d: %w", c.topic, c.partition, r.Offset, err)
		}
		c.buf = append(c.buf, l)
		c.next = r.Offset + 1
	}
	if len(c.buf) == 0 {
		// Nothing before end (only transaction markers or compacted gaps are left): done.
		c.next = c.end
		return nil, nil
	}
	return c.buf[0], nil
}

func readLetter(partition int, r *kafka.Record, bodies bool) (*letter, error) {
	l := &letter{partition: partition, offset: r.Offset, time: r.Time}
	for _, h := range r.Headers { // a record's memory is the fetch's, reused by the next one
		l.headers = append(l.headers, kafka.Header{Key: h.Key, Value: bytes.Clone(h.Value)})
	}
	var err error
	if r.Key != nil {
		if l.key, err = kafka.ReadAll(r.Key); err != nil {
			return nil, err
		}
	}
	if r.Value != nil {
		l.size = r.Value.Len()
		if bodies {
			if l.value, err = kafka.ReadAll(r.Value); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}
