/*
 * Native block I/O for the Javastor io-engine: io_uring through liburing.
 *
 * Kept deliberately small: open/size/alignment probes, ring set-up, one submission call and one
 * completion-reaping call. Every decision (which op, which buffer, what to do with a result)
 * is made in Java (io.javastor.ioengine.device.uring). Errors are returned as -errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io_javastor_ioengine_device_uring_NativeIo.h"

/* Operation codes shared with NativeIo.java. */
enum { OP_READ = 0, OP_WRITE = 1, OP_FSYNC = 2, OP_DATASYNC = 3, OP_DISCARD = 4, OP_WRITE_ZEROES = 5, OP_NOP = 6, OP_WRITE_FUA = 7 };

JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_open(
    JNIEnv *env, jclass cls, jstring jpath, jboolean create, jboolean direct) {
  (void)cls;
  const char *path = (*env)->GetStringUTFChars(env, jpath, NULL);
  if (path == NULL) return -ENOMEM;
  int flags = O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0) | (create ? O_CREAT : 0);
  /* A block device is opened exclusively (O_EXCL without O_CREAT): the kernel refuses with EBUSY while it is mounted
   * or held by device-mapper, MD, LVM or another exclusive opener, and keeps them off it while we hold it. */
  struct stat st;
  if (stat(path, &st) == 0 && S_ISBLK(st.st_mode)) flags |= O_EXCL;
  int fd = open(path, flags, 0600);
  int err = errno;
  (*env)->ReleaseStringUTFChars(env, jpath, path);
  return fd < 0 ? -err : fd;
}

JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_close(JNIEnv *env, jclass cls, jint fd) {
  (void)env; (void)cls;
  return close(fd) < 0 ? -errno : 0;
}

/* Size in bytes of a regular file or block device. */
JNIEXPORT jlong JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_size(JNIEnv *env, jclass cls, jint fd) {
  (void)env; (void)cls;
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  if (S_ISBLK(st.st_mode)) {
    uint64_t bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) return -errno;
    return (jlong)bytes;
  }
  if (S_ISREG(st.st_mode)) return (jlong)st.st_size;
  return -ENOTBLK;
}

/* The smallest offset/length alignment O_DIRECT accepts: the logical block size. */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_directIoAlignment(JNIEnv *env, jclass cls, jint fd) {
  (void)env; (void)cls;
  struct stat st;
  if (fstat(fd, &st) < 0) return -errno;
  if (S_ISBLK(st.st_mode)) {
    int lbs = 0;
    if (ioctl(fd, BLKSSZGET, &lbs) < 0) return -errno;
    return lbs;
  }
#ifdef STATX_DIOALIGN
  struct statx sx;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN) &&
      sx.stx_dio_offset_align > 0)
    return (jint)sx.stx_dio_offset_align;
#endif
  return 512;
}

/* Grows a regular file to `size` bytes (sparse). Used only for dev pools (`?size_mb=`). */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_truncate(JNIEnv *env, jclass cls, jint fd, jlong size) {
  (void)env; (void)cls;
  return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}

/*
 * With singleIssuer, the calling thread becomes the ring's only submitter and reaper (SINGLE_ISSUER): completions'
 * task work then waits until that thread asks for events (DEFER_TASKRUN) instead of interrupting it once per
 * completion, and the kernel flags pending work in the SQ ring (TASKRUN_FLAG) so a spinning reaper enters the kernel
 * only when something is there. -EINVAL from a kernel older than 6.1.
 */
JNIEXPORT jlong JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_ringCreate(
    JNIEnv *env, jclass cls, jint entries, jint sqpollIdleMs, jboolean singleIssuer) {
  (void)env; (void)cls;
  struct io_uring *ring = calloc(1, sizeof(*ring));
  if (ring == NULL) return -ENOMEM;
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  /* Twice as many completion slots as submission slots: the Java side caps in-flight ops there. */
  p.flags = IORING_SETUP_CQSIZE;
  p.cq_entries = (unsigned)entries * 2;
  if (sqpollIdleMs > 0) {
    p.flags |= IORING_SETUP_SQPOLL;
    p.sq_thread_idle = (unsigned)sqpollIdleMs;
  } else if (singleIssuer) {
    p.flags |= IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  }
  int rc = io_uring_queue_init_params((unsigned)entries, ring, &p);
  if (rc < 0) {
    free(ring);
    return rc;
  }
  return (jlong)(intptr_t)ring;
}

JNIEXPORT void JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_ringDestroy(JNIEnv *env, jclass cls, jlong ringPtr) {
  (void)env; (void)cls;
  struct io_uring *ring = (struct io_uring *)(intptr_t)ringPtr;
  io_uring_queue_exit(ring);
  free(ring);
}

/*
 * Prepares one SQE without entering the kernel. The caller serialises calls per ring (single submitter
 * at a time); completions are reaped concurrently by reap(), which only touches the CQ.
 * For OP_DISCARD / OP_WRITE_ZEROES, `len` is the byte count and `addr` is unused.
 */
static int prep(struct io_uring *ring, jint op, jint fd, jlong addr, jlong len, jlong offset, jlong userData) {
  struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
  if (sqe == NULL) {
    /* SQ full: push what is queued to the kernel and try once more. */
    int rc = io_uring_submit(ring);
    if (rc < 0) return rc;
    sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) return -EBUSY;
  }
  switch (op) {
    case OP_READ: io_uring_prep_read(sqe, fd, (void *)(intptr_t)addr, (unsigned)len, (__u64)offset); break;
    case OP_WRITE: io_uring_prep_write(sqe, fd, (const void *)(intptr_t)addr, (unsigned)len, (__u64)offset); break;
    case OP_WRITE_FUA:
      /* RWF_DSYNC: on a block device the kernel sets FUA (or flushes after) on this write only; on a file it
       * also syncs the metadata the write needs (fdatasync semantics for the range). */
      io_uring_prep_write(sqe, fd, (const void *)(intptr_t)addr, (unsigned)len, (__u64)offset);
      sqe->rw_flags = RWF_DSYNC;
      break;
    case OP_FSYNC: io_uring_prep_fsync(sqe, fd, 0); break;
    case OP_DATASYNC: io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC); break;
    case OP_DISCARD: io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len); break;
    case OP_WRITE_ZEROES: io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len); break;
    case OP_NOP: io_uring_prep_nop(sqe); break;
    default:
      /* Give the SQE back as a no-op that completes unseen (user_data -1 is ignored by the reaper). */
      io_uring_prep_nop(sqe);
      io_uring_sqe_set_data64(sqe, (__u64)-1);
      return -EINVAL;
  }
  io_uring_sqe_set_data64(sqe, (__u64)userData);
  return 0;
}

/* Queues one operation and submits it (one io_uring_enter). */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_submit(
    JNIEnv *env, jclass cls, jlong ringPtr, jint op, jint fd, jlong addr, jlong len, jlong offset, jlong userData) {
  (void)env; (void)cls;
  struct io_uring *ring = (struct io_uring *)(intptr_t)ringPtr;
  int rc = prep(ring, op, fd, addr, len, offset, userData);
  if (rc < 0) return rc;
  rc = io_uring_submit(ring);
  return rc < 0 ? rc : 0;
}

/* Queues one operation for a later flush(): several submissions then cost one io_uring_enter. */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_queue(
    JNIEnv *env, jclass cls, jlong ringPtr, jint op, jint fd, jlong addr, jlong len, jlong offset, jlong userData) {
  (void)env; (void)cls;
  return prep((struct io_uring *)(intptr_t)ringPtr, op, fd, addr, len, offset, userData);
}

/* Submits every queued SQE; returns how many went to the kernel or -errno. */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_flush(JNIEnv *env, jclass cls, jlong ringPtr) {
  (void)env; (void)cls;
  return io_uring_submit((struct io_uring *)(intptr_t)ringPtr);
}

/*
 * Copies up to `max` completions as (user_data, res) pairs of int64 into the buffer at `outAddr`.
 * With waitNanos > 0 and nothing ready, sleeps in the kernel until a completion or the timeout:
 * this is how an idle engine costs no CPU. Returns the count, 0 on timeout, or -errno.
 *
 * With submitQueued (a single-issuer ring, called by its only thread), SQEs prepared since the last call go to the
 * kernel in the same io_uring_enter that collects completions or waits for one: one system call per turn, as fio's
 * loop makes. A shared ring must not: its SQ is filled by other threads under their lock.
 */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_reap(
    JNIEnv *env, jclass cls, jlong ringPtr, jlong outAddr, jint max, jlong waitNanos, jboolean submitQueued) {
  (void)env; (void)cls;
  struct io_uring *ring = (struct io_uring *)(intptr_t)ringPtr;
  int64_t *out = (int64_t *)(intptr_t)outAddr;
  struct io_uring_cqe *cqes[256];
  if (max > 256) max = 256;
  int pending = submitQueued && io_uring_sq_ready(ring) > 0;
  /* Deferred task work (a single-issuer ring) or an overflowed CQ: completions are posted only inside io_uring_enter. */
  int work = (IO_URING_READ_ONCE(*ring->sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) != 0;
  unsigned n = io_uring_cq_ready(ring);
  if (n == 0 && waitNanos > 0) {
    struct __kernel_timespec ts = {.tv_sec = waitNanos / 1000000000LL, .tv_nsec = waitNanos % 1000000000LL};
    struct io_uring_cqe *cqe = NULL;
    int rc = pending ? io_uring_submit_and_wait_timeout(ring, &cqe, 1, &ts, NULL) : io_uring_wait_cqe_timeout(ring, &cqe, &ts);
    if (rc < 0 && rc != -ETIME && rc != -EINTR) return rc;
  } else if (pending || work) {
    int rc = pending ? io_uring_submit_and_get_events(ring) : io_uring_get_events(ring);
    if (rc < 0 && rc != -EAGAIN && rc != -EBUSY && rc != -EINTR) return rc;
  }
  n = io_uring_peek_batch_cqe(ring, cqes, (unsigned)max);
  for (unsigned i = 0; i < n; i++) {
    out[2 * i] = (int64_t)io_uring_cqe_get_data64(cqes[i]);
    out[2 * i + 1] = (int64_t)cqes[i]->res;
  }
  io_uring_cq_advance(ring, n);
  return (jint)n;
}

/*
 * Creates a non-blocking eventfd that the kernel signals when it posts a completion on this ring, with
 * signalling off to start with (eventFdEnable turns it on and off). Returns the fd or -errno.
 */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_eventFdCreate(JNIEnv *env, jclass cls, jlong ringPtr) {
  (void)env; (void)cls;
  struct io_uring *ring = (struct io_uring *)(intptr_t)ringPtr;
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) return -errno;
  int rc = io_uring_cq_eventfd_toggle(ring, false);
  if (rc == 0) rc = io_uring_register_eventfd(ring, efd);
  if (rc < 0) {
    close(efd);
    return rc;
  }
  return efd;
}

/* A blocking eventfd (not registered with any ring): a read of it queued in a ring completes when another thread
 * signals it, which is how submitters wake a single-issuer ring's poller sleeping in io_uring_enter. */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_wakeFdCreate(JNIEnv *env, jclass cls) {
  (void)env; (void)cls;
  int efd = eventfd(0, EFD_CLOEXEC);
  return efd < 0 ? -errno : efd;
}

JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_eventFdSignal(JNIEnv *env, jclass cls, jint fd) {
  (void)env; (void)cls;
  uint64_t one = 1;
  return write(fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

/* Turns completion signalling on the registered eventfd on or off (a flag in the shared CQ ring: no system call). */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_eventFdEnable(JNIEnv *env, jclass cls, jlong ringPtr, jboolean on) {
  (void)env; (void)cls;
  return io_uring_cq_eventfd_toggle((struct io_uring *)(intptr_t)ringPtr, on ? true : false);
}

/* Sets the calling thread's timer slack: the poller's short timed sleeps must not be stretched by the 50 us default. */
JNIEXPORT jint JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_setTimerSlack(JNIEnv *env, jclass cls, jlong nanos) {
  (void)env; (void)cls;
  return prctl(PR_SET_TIMERSLACK, (unsigned long)(nanos > 0 ? nanos : 1), 0, 0, 0) < 0 ? -errno : 0;
}

/* Whether completions are waiting in the CQ (no system call). */
JNIEXPORT jboolean JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_ready(JNIEnv *env, jclass cls, jlong ringPtr) {
  (void)env; (void)cls;
  return io_uring_cq_ready((struct io_uring *)(intptr_t)ringPtr) > 0 ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jlong JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_bufferAddress(JNIEnv *env, jclass cls, jobject buffer) {
  (void)cls;
  void *addr = (*env)->GetDirectBufferAddress(env, buffer);
  return (jlong)(intptr_t)addr;
}

JNIEXPORT jstring JNICALL Java_io_javastor_ioengine_device_uring_NativeIo_strerror(JNIEnv *env, jclass cls, jint errnum) {
  (void)cls;
  return (*env)->NewStringUTF(env, strerror(errnum));
}
