// Package tcpproxy is a TCP proxy that tests and the soak cut to make a dependency
// unreachable without stopping a server that others share.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a TCP proxy between workers and a server (ClickHouse). Cut
// closes the listener and every live connection, so new connections are refused and
// queries in flight fail, as when the server goes away; restore listens again on the same
// address.
type Proxy struct {
	target string
	addr   string
	frozen atomic.Bool // connections stay open but no byte passes: a hung server

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func Start(target string) (*Proxy, error) {
	p := &Proxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	return p, nil
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by cut or close
			}
			go p.pipe(c)
		}
	}()
}

// pipe copies both ways until either side closes, then closes both.
func (p *Proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	var once sync.Once
	done := func() { once.Do(func() { c.Close(); up.Close(); p.untrack(c, up) }) }
	go func() { _ = p.copy(up, c); done() }()
	_ = p.copy(c, up)
	done()
}

// copy is io.Copy that holds what it read while the proxy is frozen.
func (p *Proxy) copy(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.frozen.Load() {
			time.Sleep(20 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}

// Freeze makes the server hang: connections stay open and no byte passes either way, so
// requests neither fail nor finish until Thaw (or the client's own time-out).
func (p *Proxy) Freeze() { p.frozen.Store(true) }

// Thaw lets the bytes held by Freeze through.
func (p *Proxy) Thaw() { p.frozen.Store(false) }

// track registers a live pair, or closes it when the proxy was cut meanwhile.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		delete(p.conns, c)
	}
}

// Cut makes ClickHouse unreachable: no listener, no live connection.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore listens on the same address again (retrying briefly: the port may linger).
func (p *Proxy) Restore() error {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Close cuts the proxy for good.
func (p *Proxy) Close() { p.Cut() }

// Addr is where the proxy listens.
func (p *Proxy) Addr() string { return p.addr }
