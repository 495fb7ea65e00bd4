package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// The write phases of the commands (eval's .npy files, fmt -w, -o FILE) run
// as critical sections: an interrupt (SIGINT, SIGTERM) that arrives during
// one waits for it to finish, so files are either all in place or not
// written, and nothing temporary is left behind. Elsewhere an interrupt
// cancels the command's context (external tools stop, their temporary
// folders are removed) and the process exits with status 130 at the latest
// after interruptGrace. A second interrupt exits at once.
var writes sync.Mutex

const interruptGrace = 2 * time.Second

// critical runs fn with interrupts held off.
func critical(fn func() error) error {
	writes.Lock()
	defer writes.Unlock()
	return fn()
}

// watchInterrupts installs the handler; done is closed when the command
// has returned.
func watchInterrupts(cancel context.CancelFunc, done <-chan struct{}) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		go func() {
			<-sig
			os.Exit(130)
		}()
		cancel()
		writes.Lock() // wait for a write phase in progress; never released
		select {
		case <-done:
		case <-time.After(interruptGrace):
		}
		fmt.Fprintln(os.Stderr, "fusemax: interrupted")
		os.Exit(130)
	}()
}
