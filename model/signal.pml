/*
 * The need-wakeup handshake of the futex signals (Signal: Notify, Wake, PrepareSleep, Sleep, Wait), as the data
 * signal uses it (RingProducer.Publish / LogAppender.Publish notify, RingReader / LogReader wait) and as the space
 * signal uses it (RingReader.NotifySpace / LogReader notify after moving a pin, RingWriter.ProbeSpace /
 * LogWriter.AwaitFree wait).
 *
 * NOTIFIERS processes make the condition true, one step at a time (a counter: the writer position, or the
 * number of pin moves); WAITERS processes each wait until the counter passes what they last saw. The futex is
 * modelled as the kernel does it: FUTEX_WAIT compares the word and queues the caller in one step; FUTEX_WAKE
 * dequeues every sleeper. Sleep slices (the bounded timeouts) are left out: with them a lost wake-up costs a
 * slice instead of forever, which would hide it.
 *
 * Memory model. Sequentially consistent, except with TSO=1: then the store that makes the condition true sits
 * in the notifier's store buffer and may drain after its load of the flag, which is what x64 does to a store
 * followed by a load when no fence separates them. The symmetric protocol puts a full fence there (Signal.Notify:
 * FullFence, where AsymmetricFence.IsEnabled is false); the TSO=1 run removes it to show that SPIN then finds a
 * lost wake-up (the fence is what makes the handshake work). On the waiter's side the flag is set with
 * Interlocked.Exchange (a full fence) before the re-check.
 *
 * Asymmetric fences (MEMBARRIER=1, with TSO=1). Where the process registered for membarrier global-expedited
 * (AsymmetricFence.IsEnabled), Signal.Notify has no fence: its flag load may pass the buffered store (TSO=1). The
 * waiter pays instead: after exchanging the flag, Signal.PrepareSleep calls AsymmetricFence.Barrier
 * (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)), which makes every running thread of every registered process
 * execute a full barrier before the call returns (a thread that is not running passed a context switch, also a
 * full barrier). The model makes that one atomic step between the exchange and the re-check that drains every
 * notifier's store buffer: the barrier lands in each notifier's stream at one instant of that window, so the
 * notifier's flag load either comes before it (and its store is drained by it, before the re-check) or after it
 * (and sees the flag, which the exchange made visible before the call).
 * UNREGISTERED=1 (with MEMBARRIER=1): the last waiter runs in a process that cannot issue the membarrier (a seccomp
 * filter that blocks it there only; a process that merely did not register, or opted out with
 * SHAREDLOG_SYMMETRIC_FENCES=1, still issues it), while the notifier registered and skips its fence. That mix is a residual risk of the code: SPIN finds the lost wake-up, which the futex sleep slice
 * (Futex.SliceMs, 100 ms; left out here) bounds in the code.
 *
 * Crashes: with CRASH=1 one waiter may die at any step, also while asleep (the flag stays set).
 *
 * Properties:
 *   no lost wake-up: when nothing else can move (SPIN's timeout), no live waiter sleeps while its condition holds,
 *   also when another waiter died asleep and left the flag set.
 */

#ifndef NOTIFIERS
#define NOTIFIERS 1
#endif
#ifndef WAITERS
#define WAITERS 2
#endif
#ifndef ROUNDS
#define ROUNDS 2             /* notifications per notifier */
#endif
#ifndef TSO
#define TSO 0
#endif
#ifndef CRASH
#define CRASH 1
#endif
#ifndef MEMBARRIER
#define MEMBARRIER 0         /* waiters call AsymmetricFence.Barrier after setting the flag (needs TSO=1) */
#endif
#ifndef UNREGISTERED
#define UNREGISTERED 0       /* the last waiter's process cannot issue the membarrier (seccomp) */
#endif

byte cond;                   /* the condition's counter (Writer Position / pins moved) */
byte word;                   /* the futex word */
bit needWake;                /* the need-wakeup flag */
bool queued[WAITERS];        /* in the kernel's futex queue */
bool alive[WAITERS];
byte seenBy[WAITERS];        /* what waiter i waits to see passed */
byte doneNotifying;
byte wakeCalls;              /* ghost: FUTEX_WAKE calls */
byte buffered[NOTIFIERS];    /* TSO=1: notifier n's condition increments still in its store buffer */

proctype Notifier(byte me) {
  byte n, i;
  bool wake;
  do
  :: n >= ROUNDS -> break
  :: else ->
     n++;
#if TSO
     buffered[me]++;                         /* the release store of the condition, still in the store buffer: */
     if
     :: atomic { cond = cond + buffered[me]; buffered[me] = 0 }   /* it drains now ... */
     :: skip                                 /* ... or only after the flag load below (Signal.Notify: no fence) */
     fi;
#else
     cond++;                                 /* RingProducer.Publish: release Writer Position (or a reader's pin) */
                                             /* Signal.Notify: FullFence */
#endif
     if
     :: needWake != 0 ->                     /* Signal.Notify: acquire the flag */
        atomic {                             /* Signal.Wake: Interlocked.Exchange the flag to 0 (drains the buffer) */
          cond = cond + buffered[me]; buffered[me] = 0;
          wake = needWake != 0;
          needWake = 0 }
        if
        :: wake ->
           wake = 0;
           word++;                           /* Signal.Wake: Interlocked.Increment the word */
           atomic {                          /* Futex.WakeAll */
             wakeCalls++;
             i = 0;
             do
             :: i < WAITERS -> queued[i] = 0; i++
             :: else -> i = 0; break
             od }
        :: else
        fi
     :: else
     fi;
     atomic { cond = cond + buffered[me]; buffered[me] = 0 }   /* the buffer drains eventually */
  od;
  doneNotifying++
}

proctype Waiter(byte me) {
  byte value, i;
  {
    do
    :: cond > seenBy[me] ->                  /* ISignalCondition.Probe: the condition holds */
       seenBy[me] = cond;                    /* consume, then wait for the next */
       if
       :: seenBy[me] >= ROUNDS * NOTIFIERS -> break
       :: else
       fi
    :: else ->
       value = word;                         /* Signal.PrepareSleep: acquire the word */
       needWake = 1;                         /* Signal.PrepareSleep: Interlocked.Exchange the flag (full fence) */
#if MEMBARRIER
       if
       :: UNREGISTERED && me == WAITERS - 1 -> skip   /* AsymmetricFence.Barrier: blocked, returns false */
       :: else ->
          atomic {                           /* AsymmetricFence.Barrier: membarrier(GLOBAL_EXPEDITED): a full */
            i = 0;                           /* barrier in every notifier's stream drains its store buffer */
            do
            :: i < NOTIFIERS -> cond = cond + buffered[i]; buffered[i] = 0; i++
            :: else -> i = 0; break
            od }
       fi;
#endif
       if
       :: cond > seenBy[me] -> skip          /* Signal.Wait: probe again; holds: return */
       :: else ->
          atomic {                           /* Futex.Wait: compare and queue, one step in the kernel */
            if
            :: word == value -> queued[me] = 1
            :: else                          /* EAGAIN */
            fi }
end_sleep:
          !queued[me]                        /* asleep until FUTEX_WAKE */
       fi
    od
  } unless { !alive[me] }
}

proctype Killer() {
  if
  :: alive[0] = 0
  :: skip
  fi
}

/* No lost wake-up: when everything that can move has moved, no live waiter sleeps with its condition true. */
proctype Monitor() {
  byte i;
  atomic {
    timeout ->
    i = 0;
    do
    :: i < WAITERS ->
       assert(!(alive[i] && queued[i] && cond > seenBy[i]));
       i++
    :: else -> break
    od
  }
}

init {
  atomic {
    byte i = 0;
    do
    :: i < WAITERS -> alive[i] = 1; run Waiter(i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NOTIFIERS -> run Notifier(i); i++
    :: else -> break
    od;
#if CRASH
    run Killer();
#endif
    run Monitor()
  }
}
