/* vm/protocol.h: the wire format of the control port (hvc2) between berth on
 * the host and the guest init: one text line per message, raw bytes after it. */
#ifndef BERTH_VM_PROTOCOL_H
#define BERTH_VM_PROTOCOL_H

/* The guest's virtio consoles, in the order qemu's command line adds them. */
#define VM_PORT_STDOUT "/dev/hvc0"
#define VM_PORT_STDERR "/dev/hvc1"
#define VM_PORT_CONTROL "/dev/hvc2"

/* Host -> guest, written into the control FIFO. Every message after the
 * first is one write(2) of at most PIPE_BUF bytes, so that concurrent
 * writers (the foreground waiter, `berth kill`) never interleave:
 *   "boot KEY=VALUE ... config=LEN\n" LEN bytes of config.json  (first)
 *   "start\n"                  let the workload execve
 *   "kill SIGNO\n"             signal the workload (its pid 1)
 *   "killall SIGNO\n"          signal every process of the workload
 *   "stdin LEN\n" LEN bytes    data for the workload's stdin
 *   "eof\n"                    close the workload's stdin
 *   "winsize ROWS COLS\n"      the terminal's new size
 * boot keys: stdin=0|1 terminal=0|1 rows=N cols=N binds=I,J,... (the
 * indexes of config.json's bind mounts shared over 9p as VM_9P_BIND_TAG "I");
 * the root is on the kernel command line (berth.root=squashfs|9p
 * berth.overlay=0|1 berth.9p=1 when there are shares), read at boot.
 *
 * Guest -> host, appended to a file in the state directory:
 *   "ready\n"                  set up, waiting for start
 *   "started\n"                the workload has called execve
 *   "error ERRNO MESSAGE\n"    set-up or execve failed
 *   "exit STATUS\n"            the workload's exit status (128+N: signal N)
 * A VM that stops without an "exit" line failed (a panic, an init crash). */
#define VM_CTL_LINE_MAX 512
#define VM_STDIN_CHUNK 3072

/* The 9p mount tag of the root filesystem (rootfs over 9p). */
#define VM_9P_ROOT_TAG "berthroot"
/* ... and of a shared bind mount: this and its index in config.json. */
#define VM_9P_BIND_TAG "berthbind"
/* At most this many shared bind mounts per VM (virtio-mmio slots). */
#define VM_MAX_SHARES 16

#endif
