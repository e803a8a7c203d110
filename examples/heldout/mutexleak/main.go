// Command mutexleak is a session store whose error path forgets to unlock
// a session's mutex: every later request for that session blocks forever
// in sync.Mutex.Lock. One session in fifty breaks, so goroutines pile up
// at about 40 a second behind locks nobody will release. It runs the gdiag
// agent, GOMAXPROCS 3. Expected: a goroutine leak (growing), in
// (*store).touch.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gdiag/gdiag/probes"
)

type session struct {
	mu   sync.Mutex
	hits int
}

type store struct {
	mu       sync.Mutex
	sessions map[int]*session
}

func (s *store) get(id int) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[id] == nil {
		s.sessions[id] = &session{}
	}
	return s.sessions[id]
}

var errBroken = errors.New("session broken")

// touch records a hit. The bug: the error return skips the Unlock.
func (s *store) touch(id int) error {
	ss := s.get(id)
	ss.mu.Lock()
	if id%50 == 7 {
		return errBroken
	}
	ss.hits++
	ss.mu.Unlock()
	return nil
}

func main() {
	dur := flag.Duration("duration", 5*time.Minute, "exit after")
	flag.Parse()
	runtime.GOMAXPROCS(3)
	agent, err := probes.Start(probes.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer agent.Close()
	st := &store{sessions: map[int]*session{}}
	http.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		if err := st.touch(id); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, "ok")
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go http.Serve(ln, nil)
	go load(ln.Addr().String())
	fmt.Printf("heldout: mutexleak pid %d ready http://%s\n", os.Getpid(), ln.Addr())
	time.Sleep(*dur)
}

// load sends 2,000 requests a second over 100 sessions; requests for a
// broken session never return, so the client gives up after 100 ms.
func load(addr string) {
	c := &http.Client{Timeout: 100 * time.Millisecond}
	t := time.NewTicker(time.Second / 2000)
	for i := 0; ; i++ {
		<-t.C
		go func(id int) {
			resp, err := c.Get("http://" + addr + "/touch?id=" + strconv.Itoa(id))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}(i % 100)
	}
}
