package connect

import (
	"context"
	"errors"
	"io"
	"syscall"
	"time"

	"github.com/segmentio/kafka-go"
)

// DiagnoseKafka explains err, an error of a client that goes through a kafka.Transport (a
// writer, a kafka.Client). kafka-go's transport reports a refused SASL login as "unexpected
// EOF" or as "[8] Broker Not Available", so when err is one of those, one connection is made with dialer (whose login reports the
// broker's own error) to the first broker that answers, and its failure, when it is of a known
// kind, is returned instead. Any other err is Explain's.
func DiagnoseKafka(ctx context.Context, dialer *kafka.Dialer, brokers []string, err error) error {
	err = Explain("kafka", err)
	if KindOf(err) != "" && KindOf(err) != KindClosed || !hangUp(err) || len(brokers) == 0 {
		return err
	}
	if dialer == nil {
		dialer = kafka.DefaultDialer
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, b := range brokers {
		conn, dialErr := dialer.DialContext(ctx, "tcp", b)
		if dialErr == nil {
			_, dialErr = conn.Brokers() // a first request: a broker that wants SASL hangs up on it
			conn.Close()
			if dialErr == nil {
				return err // the login works: the hang-up was something else
			}
		}
		if explained := Explain("kafka", dialErr); KindOf(explained) != "" && KindOf(explained) != KindClosed {
			return explained
		}
	}
	return err
}

// Diagnose is DiagnoseKafka with the link's dialer.
func (l *KafkaLink) Diagnose(ctx context.Context, brokers []string, err error) error {
	return DiagnoseKafka(ctx, l.Dialer, brokers, err)
}

func hangUp(err error) bool {
	return errors.Is(err, kafka.BrokerNotAvailable) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}
