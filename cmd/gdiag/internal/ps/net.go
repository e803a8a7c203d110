package ps

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tcpListen is the state of a listening socket in /proc/net/tcp.
const tcpListen = "0A"

// listeners maps the inode of every listening TCP socket on the host to
// its address, from /proc/net/tcp and tcp6.
func listeners() map[uint64]netip.AddrPort {
	out := map[uint64]netip.AddrPort{}
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		parseNetTCP(io.LimitReader(f, 64<<20), out)
		f.Close()
	}
	return out
}

// parseNetTCP adds the listening sockets of a /proc/net/tcp or tcp6 table
// to out. Lines it cannot read are skipped.
func parseNetTCP(r io.Reader, out map[uint64]netip.AddrPort) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[3] != tcpListen {
			continue
		}
		ap, err := parseHexAddr(f[1])
		if err != nil {
			continue
		}
		if inode, err := strconv.ParseUint(f[9], 10, 64); err == nil && inode != 0 {
			out[inode] = ap
		}
	}
}

// parseHexAddr reads "0100007F:1F90" (IPv4) or 32 hex digits and a port
// (IPv6): the address as the kernel's 32-bit words in host order (little
// endian here), the port big endian.
func parseHexAddr(s string) (netip.AddrPort, error) {
	h, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != 4 && len(b) != 16 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	for i := 0; i < len(b); i += 4 { // each 32-bit word is little endian
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// listenLabel writes a listening address for the LISTEN column: ":9090"
// for every interface, else ADDR:PORT.
func listenLabel(ap netip.AddrPort) string {
	if ap.Addr().IsUnspecified() {
		return ":" + strconv.Itoa(int(ap.Port()))
	}
	return ap.String()
}

// probeTimeout bounds one look for net/http/pprof on a port.
const probeTimeout = 500 * time.Millisecond

// pprofURLs returns, for each PID of addrs, http://HOST:PORT of one of its
// listening addresses at which net/http/pprof's index answers (the least
// by string, so that the answer is stable); PIDs with none are left out.
// A wildcard address is tried on loopback. At most 8 ports are tried at
// once, each for probeTimeout.
func pprofURLs(ctx context.Context, addrs map[int][]netip.AddrPort) map[int]string {
	client := &http.Client{
		Timeout:   probeTimeout,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		// A redirect elsewhere is not this process's pprof.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var mu sync.Mutex
	out := map[int]string{}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for pid, aps := range addrs {
		for _, ap := range aps {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				u := "http://" + probeAddr(ap)
				if !servesPprof(ctx, client, u) {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if cur, ok := out[pid]; !ok || u < cur {
					out[pid] = u
				}
			})
		}
	}
	wg.Wait()
	return out
}

// probeAddr is where to reach a listening address from this host.
func probeAddr(ap netip.AddrPort) string {
	a := ap.Addr()
	switch {
	case a.IsUnspecified() && a.Is4():
		a = netip.MustParseAddr("127.0.0.1")
	case a.IsUnspecified():
		a = netip.IPv6Loopback()
	}
	return net.JoinHostPort(a.String(), strconv.Itoa(int(ap.Port())))
}

// servesPprof reports whether base/debug/pprof/ is net/http/pprof's index.
func servesPprof(ctx context.Context, c *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/debug/pprof/", nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	// The index names its profiles; a catch-all 200 does not.
	return resp.StatusCode == http.StatusOK && strings.Contains(string(b), "/debug/pprof/") && strings.Contains(string(b), "goroutine")
}
