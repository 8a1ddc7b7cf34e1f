package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// maxBrokerMessageBytes is the embedded broker's message.max.bytes: room for Meta's largest
// bodies (3 MB) with their headers, as a cluster taking WhatsApp webhooks must be configured.
const maxBrokerMessageBytes = 8 << 20

// startBroker starts kfake, the in-memory Kafka broker that speaks the real protocol, on
// addr with the topics created, and the security options of extra (brokerSecurity). It is
// what the demo and tests use instead of a cluster.
func startBroker(addr string, partitions int, dataDir string, extra []kfake.Opt, topics ...string) (*kfake.Cluster, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("broker address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("broker port %q: %w", portText, err)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1), kfake.Ports(port), kfake.AllowAutoTopicCreation(),
		// Meta sends bodies of up to 3 MB; Kafka's default message.max.bytes (1 MiB) would refuse them.
		kfake.BrokerConfigs(map[string]string{"message.max.bytes": strconv.Itoa(maxBrokerMessageBytes)}),
		kfake.DefaultNumPartitions(partitions), kfake.SeedTopics(int32(partitions), topics...),
		kfake.ListenFn(func(network, a string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(a)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
	}
	if dataDir != "" {
		opts = append(opts, kfake.DataDir(dataDir))
	}
	return kfake.NewCluster(append(opts, extra...)...)
}

func brokerCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("broker", flag.ContinueOnError)
	var c common
	c.topicFlag(fs)
	c.dlqTopicFlag(fs)
	addr := fs.String("addr", "127.0.0.1:9092", "address to listen on (port 0 picks a free one)")
	partitions := fs.Int("partitions", 6, "partitions of the input and dead-letter topics")
	dataDir := fs.String("data-dir", "", "keep the broker's data in this directory across restarts (default: memory only)")
	var sec brokerSecurityFlags
	sec.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	extra, secured, err := sec.options()
	if err != nil {
		return exitError{2, err}
	}
	cluster, err := startBroker(*addr, *partitions, *dataDir, extra, c.topic, c.dlqTopic)
	if err != nil {
		return err
	}
	defer cluster.Close()
	fmt.Printf("wapipe broker: listening on %s (%s; topics %s, %s; %d partitions)\n",
		cluster.ListenAddrs()[0], secured, c.topic, c.dlqTopic, *partitions)
	<-ctx.Done()
	return nil
}
