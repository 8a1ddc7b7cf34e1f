package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/wapipe/wapipe/internal/connect"
	"github.com/wapipe/wapipe/sinks/deadletter"
)

// wapipe dlq (contract section 10): list the dead letters of --dlq-topic, and replay them to
// --topic once their cause is removed.

var dlqSubcommands = map[string]command{"list": dlqListCmd, "replay": dlqReplayCmd}

func dlqCmd(ctx context.Context, args []string) error {
	if flagCollector != nil { // wapipe collects every command's flags for --config: both sets
		_ = dlqListCmd(ctx, nil)
		return dlqReplayCmd(ctx, nil)
	}
	if len(args) == 0 {
		return exitError{2, errors.New("name a subcommand: list or replay ('wapipe help dlq' documents them)")}
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Printf("usage: wapipe dlq list|replay [flags]\n\n%s\n\n", commandDocs["dlq"])
		for _, name := range []string{"list", "replay"} {
			_ = dlqSubcommands[name](ctx, []string{"-h"})
			fmt.Println()
		}
		return flag.ErrHelp
	}
	sub, ok := dlqSubcommands[args[0]]
	if !ok {
		return exitError{2, fmt.Errorf("unknown subcommand %q: want list or replay", args[0])}
	}
	return sub(ctx, args[1:])
}

// kafkaLink is how dlq reaches the brokers: its client and writers share one transport,
// made in newKafkaLink, the one place where the Kafka security settings belong.
type kafkaLink struct {
	addr      net.Addr
	transport *kafka.Transport
	client    *kafka.Client
}

// newKafkaLink reaches brokers through sec's transport (TLS and SASL).
func newKafkaLink(brokers []string, sec *connect.KafkaLink) *kafkaLink {
	t := sec.Transport
	addr := kafka.TCP(brokers...)
	return &kafkaLink{addr: addr, transport: t, client: &kafka.Client{Addr: addr, Transport: t, Timeout: 30 * time.Second}}
}

// writer produces to topic, keyed as the input is (Hash, like wapipe produce and the
// gateway), acknowledged by all in-sync replicas; requests up to batchBytes.
func (k *kafkaLink) writer(topic string, batchBytes int64, batchSize int) *kafka.Writer {
	return &kafka.Writer{Addr: k.addr, Transport: k.transport, Topic: topic, Balancer: &kafka.Hash{},
		RequiredAcks: kafka.RequireAll, BatchTimeout: 5 * time.Millisecond, BatchBytes: batchBytes, BatchSize: batchSize}
}

func (k *kafkaLink) close() { k.transport.CloseIdleConnections() }

// letter is one record of the dead-letter topic, as dlq reads it.
type letter struct {
	partition int
	offset    int64
	time      time.Time
	key       []byte
	value     []byte // nil unless the reader was asked for bodies
	size      int
	headers   []kafka.Header
}

func (l *letter) header(name string) string {
	for _, h := range l.headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return ""
}

func (l *letter) has(name string) bool {
	for _, h := range l.headers {
		if h.Key == name {
			return true
		}
	}
	return false
}

// id is the letter's place as x-wapipe-replay and x-wapipe-replayed name it.
func (l *letter) id(topic string) string {
	return topic + "/" + strconv.Itoa(l.partition) + "/" + strconv.FormatInt(l.offset, 10)
}

// marker says whether the record is no dead letter but a replay's note (HeaderReplayed).
func (l *letter) marker() bool {
	return l.has(deadletter.HeaderReplayed) && !l.has(deadletter.HeaderError)
}
