package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// buildWorker builds the binary the way `make build` does: without -race, whose instrumentation
// would multiply the CPU being measured.
func buildWorker(binary string) error {
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/wapipe")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s ./cmd/wapipe: %w", binary, err)
	}
	return nil
}

// worker is the `wapipe run` process under measurement.
type worker struct {
	cmd     *exec.Cmd
	http    string
	logPath string
	started time.Time
	done    chan struct{} // closed when the process has exited
	err     error         // its exit status, once done is closed
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startWorker runs the worker with its state in dir/state and its log in dir/worker.log.
// With a cgroup, the worker runs inside it from its first instruction.
func startWorker(c config, brokers, dir, group string, cgroup *memCgroup) (*worker, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	stateDir := filepath.Join(dir, "state")
	w := &worker{http: addr, logPath: filepath.Join(dir, "worker.log"), done: make(chan struct{})}
	// Appended: the soak restarts a worker on the same directory and its earlier log stays.
	log, err := os.OpenFile(w.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	argv := []string{c.binary, "run", "--brokers", brokers, "--clickhouse", c.clickhouse,
		"--database", c.database, "--group", group, "--state-dir", stateDir, "--listen", addr,
		"--log-level", "warn", "--pprof", "--max-in-flight-mb", strconv.Itoa(c.maxInFlightMB), // --pprof: the profiles it fetches
		"--batch-rows", strconv.Itoa(c.batchRows), "--batch-age", c.batchAge.String()}
	if c.memoryLimitMB > 0 {
		argv = append(argv, "--memory-limit-mb", strconv.Itoa(c.memoryLimitMB))
	}
	if c.cacheContacts > 0 {
		argv = append(argv, "--cache-contacts", strconv.Itoa(c.cacheContacts))
	}
	if c.lastSeenStep > 0 {
		argv = append(argv, "--last-seen-step", c.lastSeenStep.String())
	}
	if cgroup != nil {
		argv = cgroup.enter(argv)
	}
	w.cmd = exec.Command(argv[0], argv[1:]...)
	w.cmd.Stdout, w.cmd.Stderr = log, log
	w.started = time.Now()
	if err := w.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", c.binary, err)
	}
	go func() { w.err = w.cmd.Wait(); log.Close(); close(w.done) }()
	return w, nil
}

func (w *worker) pid() int { return w.cmd.Process.Pid }

func (w *worker) alive() bool {
	select {
	case <-w.done:
		return false
	default:
		return true
	}
}

// stop asks the worker to drain and exit, and kills it if it does not within the timeout.
// Calling it again returns the same exit status.
func (w *worker) stop(timeout time.Duration) error {
	if !w.alive() {
		return w.err
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
		return w.err
	case <-time.After(timeout):
		_ = w.cmd.Process.Kill()
		<-w.done
		return fmt.Errorf("worker did not exit within %v of SIGTERM; killed", timeout)
	}
}

// logTail is the end of the worker's log, for a failed run's report.
func (w *worker) logTail(n int) string {
	b, _ := os.ReadFile(w.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
