package main

// Native output capture (fmt.Println, log.Print, os.Stdout/os.Stderr, child processes).
//
// Go has no goroutine-local storage and fmt.Println writes straight to file descriptor 1, which
// the whole process shares, so output cannot be told apart by goroutine. Instead, fds 1 and 2
// point at one unlinked file in /tmp from the moment a call of Main starts while no other call
// runs, until that call answers (returns, panics or times out); the text is then that
// request's native output, written to its logs after the "Native logs detected..." notice.
//
// When a second call starts before the first answers, their output can no longer be told
// apart: the first call keeps what was written before the overlap began, and everything after
// goes to the container's own output, in no request's logs. No capture starts while a
// timed-out call is still running in the background (it could write into another request's
// logs); its output and that of requests started meanwhile go to the container's output too.

import (
	"io/ioutil"
	"os"
	"sync"
	"syscall"
)

const captureLimit = 64 * 1024 // bytes of native output read back per request

// capturing identifies one call of Main.
type capturing struct{ _ byte }

type nativeCapture struct {
	mutex      sync.Mutex
	running    int        // calls of Main still running (timed-out ones too)
	owner      *capturing // the call the current capture belongs to
	sharedFrom int64      // file size when another call started during the capture, or -1
	file       *os.File
	saved      [2]int
}

var native = &nativeCapture{sharedFrom: -1}

func dupCloexec(fd int) (int, error) {
	copied, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 3)
	if errno != 0 {
		return -1, errno
	}
	return int(copied), nil
}

func (c *nativeCapture) begin(call *capturing) {
	c.mutex.Lock()
	defer c.mutex.Unlock()
	if c.owner == nil && c.running == 0 {
		c.start(call)
	} else if c.owner != nil && c.sharedFrom < 0 {
		c.sharedFrom = c.size()
	}
	c.running++
}

func (c *nativeCapture) workerDone() {
	c.mutex.Lock()
	c.running--
	c.mutex.Unlock()
}

func (c *nativeCapture) size() int64 {
	info, err := c.file.Stat()
	if err != nil {
		return 0
	}
	return info.Size()
}

func (c *nativeCapture) start(call *capturing) {
	file, err := ioutil.TempFile("", "opr-native-")
	if err != nil {
		return
	}
	os.Remove(file.Name())
	stdout, err := dupCloexec(1)
	if err != nil {
		file.Close()
		return
	}
	stderr, err := dupCloexec(2)
	if err != nil {
		syscall.Close(stdout)
		file.Close()
		return
	}
	syscall.Dup3(int(file.Fd()), 1, 0)
	syscall.Dup3(int(file.Fd()), 2, 0)
	c.file, c.saved, c.owner, c.sharedFrom = file, [2]int{stdout, stderr}, call, -1
}

// end stops the capture when call owns it and returns that call's part of the text.
func (c *nativeCapture) end(call *capturing) string {
	c.mutex.Lock()
	defer c.mutex.Unlock()
	if c.owner != call {
		return ""
	}
	syscall.Dup3(c.saved[0], 1, 0)
	syscall.Dup3(c.saved[1], 2, 0)
	syscall.Close(c.saved[0])
	syscall.Close(c.saved[1])
	size := c.size()
	mine := size
	if c.sharedFrom >= 0 {
		mine = c.sharedFrom
	}
	text := c.read(0, mine)
	if mine < size {
		os.Stdout.WriteString(c.read(mine, size-mine)) // overlapping calls: nobody's in particular
	}
	c.file.Close()
	c.file, c.owner, c.sharedFrom = nil, nil, -1
	return text
}

func (c *nativeCapture) read(offset, length int64) string {
	if length > captureLimit {
		length = captureLimit
	}
	if length <= 0 {
		return ""
	}
	buffer := make([]byte, length)
	n, _ := c.file.ReadAt(buffer, offset)
	return string(buffer[:n])
}
