package bench

import "sync"

// ChanPool is the baseline pool: a fixed number of goroutines ranging over a
// buffered channel of tasks. Its zero value is not usable; call NewChanPool.
type ChanPool struct {
	tasks chan func()
	wg    sync.WaitGroup
}

// NewChanPool starts workers goroutines that run tasks from a channel
// buffered to hold queue tasks. It panics if workers < 1 or queue < 0.
func NewChanPool(workers, queue int) *ChanPool {
	if workers < 1 || queue < 0 {
		panic("bench: NewChanPool needs at least one worker and a queue of at least 0")
	}
	p := &ChanPool{tasks: make(chan func(), queue)}
	p.wg.Add(workers)
	for range workers {
		go func() {
			defer p.wg.Done()
			for task := range p.tasks {
				task()
			}
		}()
	}
	return p
}

// Go queues task, blocking while the buffer is full. It panics after Close.
func (p *ChanPool) Go(task func()) { p.tasks <- task }

// TryGo queues task if the buffer has room (or a worker is waiting) and
// reports whether it did. It panics after Close.
func (p *ChanPool) TryGo(task func()) bool {
	select {
	case p.tasks <- task:
		return true
	default:
		return false
	}
}

// Close waits for every queued task to finish and for the workers to exit.
// It must be called once, after the last Go.
func (p *ChanPool) Close() {
	close(p.tasks)
	p.wg.Wait()
}
