package store

import "time"

// trimInterval is how often finished value-log files are paged out of the
// process (see trimValueLog). Each pass reads /proc/self/maps and makes one
// madvise call per file, so it costs microseconds; what it saves is the RSS
// of every value-log page written since the previous pass. At c64 on 2
// cores (16k events/s, 5 minutes, the load harness), the peak RSS was 331
// MiB with a 5 s interval and 238 MiB with 1 s.
const trimInterval = time.Second

// trimLoop pages out finished value-log files until stop is closed. It stops
// trying, with one warning, where the kernel does not support it.
func (b *Badger) trimLoop(dir string, every time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if _, err := trimValueLog(dir); err != nil {
			b.logger.Warn("store: cannot page out finished value-log files; RSS will include them", "err", err)
			<-stop
			return
		}
	}
}
