/*
 * The byte ring's protocol: RingProducer (Reserve, Free, Rescan, RaiseTail, Publish, ProbeSpace), RingConsumer (the
 * constructor, Join, Read, Hold + Validate + Advance, Seek, RearmIfEvicted, Skip, Consume) and the ReaderTable
 * steps they use (Claim, Activate, MinPin, EvictAtOrBelow, TryReap).
 *
 * One writer (plus a second writer that takes the lease over once the first is dead), two readers, a ring of
 * C = 2 bytes, NBYTES bytes written in total, one byte per write. The byte at position p is written as the value p,
 * so a reader that finds another value at p has read an overwritten byte.
 *
 * Memory model. Every shared load and store is one Promela statement, so memory is sequentially consistent. That
 * is what the code gets where it uses full fences and interlocked operations (Atomic.Exchange, GetAndAdd,
 * FullFence: lock-prefixed on x64, a full barrier on ARM64). Elsewhere it relies only on release stores and acquire
 * loads (Atomic.WriteRelease / ReadAcquire). x64 is TSO: every store is a release and every load an acquire, and
 * the only reordering is a store followed by a load of another location. The model is sound for the code on x64 as
 * long as every store->load pair that matters is separated by a full fence in the code. That is the Dekker
 * handshake marked "(full fence)" below: Join Sequence (reader: store pin; GetAndAdd JoinSequence; load Tail
 * Intent) against Tail Intent (writer: Exchange TailIntent; load JoinSequence). Tail before data (writer: release
 * Tail; StoreFence; store data) against the reader's seqlock (load data; LoadFence; load Tail) needs no store->load
 * order: stores in order against loads in order, which x64 keeps with no instruction and ARM64 with its barriers.
 * On ARM64 the release/acquire pairs must be real stlr/ldar (Volatile.Write/Read) for the same argument to hold;
 * see docs/model.md.
 *
 * Crashes. One process may stop at any step: before any access to shared memory, while it sleeps, or after its
 * last step (a stop between two purely local steps is the same as a stop before the next access, since a dead
 * process's local state is gone). Every step that touches shared memory is written STEP(...): the access, or
 * instead the crash (CRASH_STEP), which marks the process dead. Its shared state stays; its local variables are
 * cleared (at crashed:, a purely local step that SPIN's partial order reduction takes before any other process
 * moves). Clearing them makes the states after crashes at different points equal whenever the shared memory is
 * equal, and keeping the crash out of the steps that touch only local variables leaves those to SPIN's partial
 * order reduction and statement merging (an unless escape on a global condition, as the models used before, turns
 * both off in the whole process). The OS sees a stopped process as dead: the writer may reap its reader slot, the
 * second writer may take over.
 *
 * Join Sequence. The code's counter only goes up (GetAndAdd by a joining reader), and the one live writer only
 * compares it with its own copy (_seenJoins, taken when Rescan reads it; a new writer has no copy and rescans
 * before it compares). So the model keeps what the writer can tell from it: JoinSeq = 1 when it moved since the
 * writer's Rescan read it. A join sets it; the writer's read in Rescan, which takes the copy, clears it; the
 * writer's other reads compare. That is exact (the 64-bit counter does not wrap), and states that differ only in how
 * many joins there were are no longer told apart.
 *
 * Switches (-D on the spin command line):
 *   FIXED=0  the code before the join fix: a reader that joins (creation, backward Seek, re-arming after eviction) pins at
 *            max(desired, Tail Intent) but reads from below that pin.          [expected: assertion violated]
 *   FIXED=1  the fix as the code implements it (RingConsumer, RingProducer):  [expected: no error]
 *            (a) a new reader starts at its pin (under Evict at max(pin, Tail));
 *            (b) a backward Seek whose Join pins above the target throws ArgumentOutOfRange and leaves the
 *                reader's position where it was (its pin is what Join stored);
 *            (c) re-arming after eviction: Skip(Join(position)), the gap counts as lost;
 *            (d) RaiseTail, failing because a rescan found a pin below the new tail, stores Tail Intent back down
 *                to Tail (release) before it returns false.
 *   SEEKPIN  (FIXED=1) the code's backward Seek (RingConsumer.Seek), the remedy for (b): its join gives up before it
 *            stores a pin above the target (Tail Intent is above it), and when the re-read of Tail Intent after the
 *            Join Sequence increment fails, it stores the old pin back before it throws; so the reader's pin never
 *            ends above its position. Without it, CHUNK=1 breaks P5.
 *   CHUNK    (FIXED=1) a tail raise may move the tail up to CHUNK positions past what is needed (capped by Writer
 *            Position and, under Block, the writer's cached slowest pin), at least what is needed. The code raises
 *            the tail to the next multiple of the tail chunk (RingProducer.Ahead, RingLayout.TailChunk) with the
 *            same caps, so a raise runs ahead of the write and moves the tail by many positions at once; CHUNK=1 is
 *            that scaled to the model's 2-byte ring, so that a raise can jump two positions.
 *   BLOCK=1  SlowReaderPolicy.Block (default); BLOCK=0 SlowReaderPolicy.Evict.
 *   CRASH=1  the writer or either reader may stop (default); CRASH=0 no crash.
 *   VICTIM   (CRASH=1) 0 or 1: only that reader may stop, 2: only the first writer; 9 (default): any one of them.
 *   MAXOPS   operations of reader 0 (Read, Hold + Validate + Advance, or one Seek); MAXOPS1 Reads of reader 1,
 *            which joins at the oldest byte; EVICTIONS timeout evictions per writer; NBYTES bytes written.
 *
 * Properties (assertions):
 *   P1 torn:   Read never returns, and Validate never approves, a byte that was overwritten while it was copied or
 *              held (seqlock validation).
 *   P2 block:  under Block, the writer never overwrites a byte that a live reader, not evicted, holds (Hold) -
 *              checked at the writer's copy into the ring.
 *   P3 loss:   under Block, a reader that was never evicted never skips a byte in Read, Hold or Advance.
 *   P4 exact:  for every reader, bytes delivered + LostBytes = the span of positions it went through.
 *   P5 pin:    under Block, a reader that was never evicted never sits below its own pin after an operation (the
 *              invariant whose breach is the join race: bytes between its position and its pin are the writer's).
 */

#ifndef FIXED
#define FIXED 0
#endif
#ifndef BLOCK
#define BLOCK 1
#endif
#ifndef NBYTES
#define NBYTES 3
#endif
#ifndef MAXOPS
#define MAXOPS 2
#endif
#ifndef MAXOPS1
#define MAXOPS1 1
#endif
#ifndef CRASH
#define CRASH 1
#endif
#ifndef EVICTIONS
#define EVICTIONS 1
#endif
#ifndef CHUNK
#define CHUNK 0
#endif
#ifndef SEEKPIN
#define SEEKPIN 0
#endif
#ifndef VICTIM
#define VICTIM 9            /* with CRASH=1: 0 or 1 only that reader may crash, 2 only the first writer; 9 any */
#endif

#define C       2
#define NR      2
#define NOPIN   99          /* ReaderSlotLayout.NoPin */
#define IDLE    0           /* ReaderSlotLayout.StateIdle */
#define ACTIVE  1           /* ReaderSlotLayout.StateActive */
#define EVICTED 2           /* ReaderSlotLayout.StateEvicted */
#define W0      2           /* alive[] index of the first writer */
#define W1      3           /* alive[] index of the writer that takes over */

#define MAX(a, b) ((a) > (b) -> (a) : (b))
#define MIN(a, b) ((a) < (b) -> (a) : (b))

/* RingLayout hot counters */
short WP;                   /* Writer Position */
short Tail;                 /* Tail Position */
short Intent;               /* Tail Intent */
bool JoinSeq;               /* Join Sequence, as the writer uses it: 1 = moved since the writer's Rescan read it */
short data[C];              /* the ring's bytes: data[p & (C-1)] = p once position p is written */

/* ReaderSlotLayout, one per reader */
short pin[NR];
byte state[NR];
bool owned[NR];             /* owner word's pid != 0 */

bool alive[4];

/* ghosts (not in the file) */
short hFrom[NR];            /* what reader r holds in place (Hold) */
short hLen[NR];
bool evictedEver[NR];

/* ---------------------------------------------------------------- crashes */

#if CRASH
#if VICTIM == 9
#define MAY_CRASH(who)  ((who) != W1 && alive[0] && alive[1] && alive[W0])   /* any one, once */
#else
#define MAY_CRASH(who)  ((who) == VICTIM)
#endif
/* The process stops here instead of taking its step: dead, its local variables gone (ME and LOCALS_CLEARED are
   defined for the writer and for the readers below). */
#define CRASH_STEP  :: d_step { MAY_CRASH(ME) -> alive[ME] = 0; GHOSTS_CLEARED }; goto crashed
#else
#define CRASH_STEP
#endif
/* One step that touches shared memory (one load, store, CAS or interlocked add, with the process's own bookkeeping),
   or the crash instead of it. */
#define STEP(...)  if :: atomic { __VA_ARGS__ } CRASH_STEP fi

/* ---------------------------------------------------------------- writer */
/*
 * Granularity: each STEP holds exactly one access to shared memory (a load, a store, a CAS or an interlocked add)
 * together with the process's own bookkeeping around it, which no other process can see. Scratch locals are reset
 * when a step ends, so equal shared states are recognised as equal. Steps that touch only local variables are
 * left as they are (SPIN merges and reduces them).
 */
#define ME me
#define LOCALS_CLEARED \
  pos = 0; tail = 0; intent = 0; minPin = 0; newTail = 0; p = 0; m = 0; free = 0; snap0 = 0; snap1 = 0; \
  i = 0; step = 0; evictions = 0; seenValid = 0; again = 0
#define GHOSTS_CLEARED skip

/* RingProducer.FreeFrom */
#define FREE_FROM(mp) \
  ((mp) == NOPIN -> C : ((pos - (mp)) <= 0 -> C : ((pos - (mp)) >= C -> 0 : C - (pos - (mp)))))

/*
 * RingProducer.Rescan (its lease check is lease.pml) + ReaderTable.MinPin(reap). MinPin loads a slot's owner word,
 * state and pin one after another; here the three loads of one slot are one step. That loses no behaviour: while
 * the writer scans, only the slot's owner writes its state and pin, it stores the pin before it sets the state
 * Active (ReaderTable.Activate), and it never sets any state but Active, so whatever state/pin pair two loads can
 * see, one load at the instant of the second also sees. Slots are read one at a time, so a reader can join between
 * the writer's reads of two slots. The end of the scan (RingProducer.Rescan: _minPin) is local and ends the step of
 * the last slot.
 */
inline Rescan(reap) {
  STEP(JoinSeq = 0; seenValid = 1; m = NOPIN; i = 0; step = 0);   /* RingProducer.Rescan: acquire Join Sequence (_seenJoins) */
  do
  :: atomic { step == 0 && i < NR ->                                    /* ReaderTable.MinPin: owner, state, pin */
       if
       :: owned[i] && state[i] == ACTIVE && pin[i] < m ->
          if
          :: reap -> p = pin[i]; step = 1
          :: else -> m = pin[i]; i++
          fi
       :: else -> i++
       fi;
       if :: step == 0 && i >= NR -> minPin = m; i = 0; m = 0; break :: else fi }
  :: atomic { step == 1 ->                                              /* OwnerBlock.TryReap: CAS owner word if dead */
       if :: owned[i] && !alive[i] -> owned[i] = 0 :: else -> m = p fi;
       step = 0; p = 0; i++;
       if :: i >= NR -> minPin = m; i = 0; m = 0; break :: else fi }
  CRASH_STEP
  od
}

/* ReaderTable.EvictAtOrBelow(limit): owner word and pin (one step, as in Rescan), then the CAS of the state */
inline EvictAtOrBelow(limit) {
  i = 0; step = 0;
  do
  :: atomic { step == 0 && i < NR ->
       if :: owned[i] && pin[i] <= limit -> step = 1 :: else -> i++ fi;
       if :: step == 0 && i >= NR -> i = 0; break :: else fi }
  :: atomic { step == 1 ->                                              /* CAS state Active -> Evicted */
       if :: state[i] == ACTIVE -> state[i] = EVICTED; evictedEver[i] = 1 :: else fi;
       step = 0; i++;
       if :: i >= NR -> i = 0; break :: else fi }
  CRASH_STEP
  od
}

proctype Writer(byte me) {
  short pos, tail, intent, minPin, newTail, p, m, free;
  short snap0, snap1;
  byte i, step, evictions;
  bool seenValid, again;

  /* The lease (lease.pml): the second writer claims only once the first is dead. */
  if
  :: me == W1 ->
end_standby:
     !alive[W0]
  :: else
  fi;

  /* RingProducer..ctor: resume at the published position (no other writer runs: the lease) */
  STEP(pos = WP; tail = Tail; intent = Intent; minPin = NOPIN; seenValid = 0);

  do
  :: pos >= NBYTES -> break
  :: else ->
#if BLOCK
     /* RingProducer.Reserve -> RingProducer.Free */
     again = 1;
     do
     :: !again -> break
     :: else ->
        STEP(again = !seenValid || JoinSeq);                        /* Free: acquire Join Sequence, != _seenJoins */
        if
        :: again -> Rescan(0)
        :: else
        fi;
        free = FREE_FROM(minPin); again = free < 1 && free < C; free = 0;
        if
        :: again -> Rescan(0)                                       /* Free: not enough by the cache: rescan */
        :: else
        fi;
        again = FREE_FROM(minPin) == 0;
        if
        :: again ->
           /* RingProducer.ProbeSpace: the wait for space. Rescan, reaping dead owners; if still full, either the
              SlowReaderTimeout passed (evict the slowest, at most EVICTIONS times in a run) or sleep until a
              reader moves, drops or changes its pin or dies (the space signal: signal.pml). */
           Rescan(1);
           if
           :: FREE_FROM(minPin) == 0 ->
              if
              :: evictions < EVICTIONS -> evictions++;
                 EvictAtOrBelow(minPin);
                 Rescan(0)
              :: STEP(snap0 = pin[0] * 8 + state[0] * 2 + owned[0]; snap1 = pin[1] * 8 + state[1] * 2 + owned[1]);
end_sleep:
                 STEP((snap0 != pin[0] * 8 + state[0] * 2 + owned[0] || snap1 != pin[1] * 8 + state[1] * 2 + owned[1]
                       || owned[0] && !alive[0] || owned[1] && !alive[1]) -> snap0 = 0; snap1 = 0)
              fi
           :: else
           fi
        :: else ->
           /* RingProducer.Reserve: the tail the write needs */
           newTail = pos + 1 - C;
           again = newTail > tail;
#if FIXED
           /* a raise of several positions (a multi-byte write): min(needed + chunk, Writer Position, slowest pin) */
           if
           :: again -> newTail = MAX(MIN(MIN(newTail + CHUNK, pos), (minPin == NOPIN -> pos : minPin)), newTail)
           :: else
           fi;
#endif
           if
           :: again ->
              /* RingProducer.RaiseTail */
              STEP(if
                   :: newTail > intent ->
                      Intent = newTail;                             /* RaiseTail: Exchange TailIntent (full fence) */
                      intent = newTail
                   :: else                                          /* RaiseTail: FullFence */
                   fi);
              STEP(again = JoinSeq);                                /* RaiseTail: acquire Join Sequence (Dekker), != _seenJoins */
              if
              :: again -> Rescan(0)
              :: else
              fi;
              again = minPin < newTail;                             /* RaiseTail false: Reserve retries */
              if
              :: !again ->
                 STEP(Tail = newTail; tail = newTail; newTail = 0)  /* RaiseTail: release TailPosition; StoreFence */
              :: else ->
#if FIXED
                 STEP(Intent = tail; intent = tail);                /* RaiseTail false: release TailIntent back to Tail */
#endif
                 newTail = 0
              fi
           :: else -> newTail = 0
           fi
        fi
     od;
#else
     STEP(
       newTail = pos + 1 - C;
#if FIXED
       if                                                           /* a multi-position raise (no pins under Evict) */
       :: newTail > tail -> newTail = MAX(MIN(newTail + CHUNK, pos), newTail)
       :: else
       fi;
#endif
       if
       :: newTail > intent -> Intent = newTail; intent = newTail    /* RaiseTail: release TailIntent (Evict) */
       :: else
       fi);
     STEP(
       if
       :: newTail > tail -> Tail = newTail; tail = newTail          /* RaiseTail: release TailPosition; StoreFence */
       :: else
       fi;
       newTail = 0);
#endif
     /* RingFile.CopyIn, with the P2 monitor */
     STEP(
#if BLOCK
       assert(!(alive[0] && state[0] != EVICTED && hLen[0] > 0 && hFrom[0] <= pos - C && pos - C < hFrom[0] + hLen[0]));
       assert(!(alive[1] && state[1] != EVICTED && hLen[1] > 0 && hFrom[1] <= pos - C && pos - C < hFrom[1] + hLen[1]));
#endif
       data[pos % C] = pos);

     /* RingProducer.Publish: release Writer Position (the Notify that follows: signal.pml) */
     STEP(pos++; WP = pos)
  od;
  LOCALS_CLEARED;                                                   /* done: only its shared state matters */
#if CRASH
end_done:
  if CRASH_STEP fi;                                                 /* done; it may still crash */
crashed:
  atomic { LOCALS_CLEARED };                                /* gone with the process (a local step, taken at once) */
end_crashed:
  false
#endif
}

/* ---------------------------------------------------------------- readers */
#undef ME
#undef LOCALS_CLEARED
#undef GHOSTS_CLEARED
#define ME r
/* a reader's local variables once it is done or dead, and its ghosts once it is dead (its pin, state and owner
   word stay) */
#define LOCALS_CLEARED \
  pos = 0; mypin = 0; lost = 0; delivered = 0; base = 0; w = 0; t = 0; start = 0; p = 0; cnt = 0; k = 0; \
  ops = 0; bad = 0; fromOldest = 0; seeked = 0
#define GHOSTS_CLEARED hFrom[r] = 0; hLen[r] = 0; evictedEver[r] = 0

/* RingConsumer.Consume (ghost: the bytes the caller held, if any, are released with it) */
#define CONSUME(n) \
  pos = pos + n; \
  delivered = delivered + n; \
  hLen[r] = 0; hFrom[r] = 0; \
  if \
  :: pos > mypin -> mypin = pos; pin[r] = pos                       /* RingConsumer.Consume: release pin */ \
  :: else \
  fi

/* RingConsumer.Skip(to) */
#define SKIP(to) \
  if \
  :: to > pos -> \
     assert(!BLOCK || evictedEver[r]);                              /* P3 */ \
     lost = lost + to - pos; \
     pos = to; \
     if \
     :: pos > mypin -> mypin = pos; pin[r] = pos                    /* RingConsumer.Skip: release pin */ \
     :: else \
     fi \
  :: else \
  fi

/* RingConsumer.Join(desired) */
inline Join(desired) {
  do
  :: STEP(p = MAX(desired, Intent));                                /* RingConsumer.Join: acquire Tail Intent */
     STEP(pin[r] = p);                                              /* RingConsumer.Join: release pin */
     STEP(state[r] = ACTIVE);                                       /* ReaderTable.Activate: acquire, release state; FullFence */
     STEP(JoinSeq = 1);                                             /* RingConsumer.Join: GetAndAdd JoinSequence (full fence) */
     STEP(if
          :: Intent <= p -> mypin = p; p = 0; break                 /* RingConsumer.Join: acquire Tail Intent again */
          :: else
          fi)
  od
}

/* RingConsumer.RearmIfEvicted (its slot-ownership check needs the heartbeat fallback: lease.pml) */
inline RearmIfEvicted() {
  STEP(t = (state[r] == EVICTED));                                  /* ReaderTable.IsEvicted: acquire state */
  if
  :: t ->
     t = 0;
     Join(pos);
#if FIXED
     STEP(SKIP(mypin))                                              /* Rearm: Skip(Join(position)); the gap counts as lost */
#else
     skip
#endif
  :: else
  fi
}

/* The caller reads cnt bytes from pos, one load per byte; bad when one was overwritten */
inline CopyOut() {
  k = 0;
  do
  :: atomic { k < cnt -> bad = bad || (data[(pos + k) % C] != pos + k); k++;
       if :: k >= cnt -> k = 0; break :: else fi }
  :: k >= cnt -> k = 0; break                                       /* nothing to read */
  CRASH_STEP
  od
}

proctype Reader(byte r; byte maxops; bool every) {
  short pos, mypin, lost, delivered, base, w, t, start, p, cnt;
  byte k, ops;
  bool bad, fromOldest, seeked;

  /* ReaderTable.Claim: CAS owner word, then state idle, pin NoPin (no other process looks at a fresh slot) */
  STEP(owned[r] = 1; state[r] = IDLE; pin[r] = NOPIN);

  /* RingConsumer..ctor */
  STEP(w = WP);                                                     /* acquire Writer Position */
  if
  :: STEP(fromOldest = 1; start = MAX(0, MAX(w - C, Tail)); w = 0)  /* acquire Tail */
  :: every -> fromOldest = 0; start = w; w = 0
  fi;
  Join(start);
#if FIXED
#if BLOCK
  pos = mypin; base = pos; start = 0;                               /* ctor: start at the pin, never below it */
#else
  STEP(pos = MAX(mypin, Tail); base = pos; start = 0);              /* ctor (Evict): acquire Tail; start at max(pin, Tail) */
#endif
#else
  if
  :: fromOldest -> STEP(pos = MAX(start, Tail); base = pos; start = 0)   /* ctor: acquire Tail again */
  :: else -> pos = start; base = pos; start = 0
  fi;
#endif
  fromOldest = 0;

  do
  :: ops >= maxops -> break
  :: else ->
     ops++;
     if
     :: /* RingConsumer.Read(destination of 1 or 2 bytes) */
        RearmIfEvicted();
        do
        :: STEP(w = WP);                                            /* Read: acquire Writer Position */
           STEP(t = Tail);                                          /* Read: acquire Tail */
           if
           :: t > pos -> STEP(SKIP(t)); t = 0                       /* lapped: skip to Tail, again */
           :: else ->
              t = 0;
              if
              :: w - pos <= 0 -> w = 0; break                      /* nothing available: returns 0 */
              :: else ->
                 if
                 :: cnt = 1
                 :: cnt = MIN(w - pos, C)
                 fi;
                 w = 0;
                 CopyOut();                                         /* RingFile.CopyOut */
                 STEP(t = Tail);                                    /* Read -> IsIntact: LoadFence; acquire Tail */
                 if
                 :: t > pos -> STEP(t = Tail); STEP(SKIP(t)); t = 0; cnt = 0; bad = 0   /* torn: skip to Tail, again */
                 :: else ->
                    t = 0;
                    assert(!bad);                                   /* P1 */
                    STEP(CONSUME(cnt));
                    cnt = 0;
                    break
                 fi
              fi
           fi
        od

     :: every -> /* RingConsumer.GetReadSpans (Hold); the caller uses the bytes; Advance (Validate first) */
        RearmIfEvicted();
        STEP(w = WP);                                               /* Hold: acquire Writer Position */
        /* Hold: acquire Tail; the spans are the caller's from here (ghost hFrom, hLen) */
        STEP(t = Tail;
             if
             :: t <= pos -> t = 0; cnt = MAX(0, MIN(w - pos, C)); w = 0; hFrom[r] = (cnt > 0 -> pos : 0); hLen[r] = cnt
             :: else
             fi);
        if
        :: t > pos ->
           STEP(SKIP(t);                                            /* Hold: lapped, Skip(Tail) */
                t = 0; cnt = MAX(0, MIN(w - pos, C)); w = 0; hFrom[r] = (cnt > 0 -> pos : 0); hLen[r] = cnt)
        :: else
        fi;
        CopyOut();                                                  /* the caller reads the spans in place */
        if
        :: cnt > 0 ->
           STEP(t = Tail);                                          /* Validate -> IsIntact(held position): LoadFence; acquire Tail */
           if
           :: t <= pos ->
              assert(!bad);                                         /* P1 */
              STEP(CONSUME(cnt))                                    /* the caller is done with the bytes at Advance */
           :: else ->
              STEP(t = MAX(pos + cnt, Tail); hLen[r] = 0; hFrom[r] = 0);   /* Advance: Skip(max(position + count, Tail)) */
              STEP(SKIP(t))
           fi
        :: else
        fi;
        t = 0; cnt = 0; bad = 0

     :: every && !seeked ->
        /* RingConsumer.Seek(position) within [Tail, Writer Position] */
        seeked = 1;
        STEP(w = WP);                                               /* Seek: acquire Writer Position */
        STEP(t = Tail);                                             /* Seek: acquire Tail (below it: ArgumentOutOfRange) */
        do
        :: t < w -> t++
        :: break
        od;
        w = 0;
        if
        :: t < mypin ->
#if FIXED && SEEKPIN
           /* RingConsumer.Seek: a backward Seek never leaves a pin above the reader's position. */
           do
           :: STEP(p = MAX(t, Intent));                             /* acquire Tail Intent */
              if
              :: p > t -> p = 0; break                             /* the target is being overwritten: throw, */
              :: else                                               /* the pin untouched */
              fi;
              STEP(pin[r] = p);                                     /* release pin */
              STEP(state[r] = ACTIVE);                              /* ReaderTable.Activate */
              STEP(JoinSeq = 1);                                    /* GetAndAdd JoinSequence (full fence) */
              STEP(if
                   :: Intent <= p -> mypin = p; p = 0; break        /* acquire Tail Intent again: joined at t */
                   :: else
                   fi);
              STEP(pin[r] = mypin; p = 0);                          /* put the old pin back (release), throw */
              break
           od;
#else
           Join(t);                                                 /* Seek: backwards, the writer may not know this pin */
#endif
#if FIXED
           if
           :: mypin > t -> t = 0                                    /* Seek: pinned above the target: throws */
           :: else ->                                               /* ArgumentOutOfRange; position unchanged */
              base = base + t - pos; pos = t; t = 0                 /* the positions gone through restart at the target */
           fi
#else
           base = base + t - pos; pos = t; t = 0
#endif
        :: else ->
           STEP(base = base + t - pos; mypin = t; pin[r] = t; pos = t; t = 0)   /* Seek: release pin (forwards) */
        fi
     fi;
     assert(delivered + lost == pos - base);                        /* P4 */
#if FIXED
     assert(!BLOCK || evictedEver[r] || pos >= mypin)               /* P5 */
#else
     skip
#endif
  od;
  atomic { LOCALS_CLEARED };                                        /* done: only its shared state matters */
#if CRASH
end_done:
  if CRASH_STEP fi;                                                 /* it may still crash */
crashed:
  atomic { LOCALS_CLEARED };                                /* gone with the process (a local step, taken at once) */
end_crashed:
  false
#endif
}

init {
  atomic {
    pin[0] = NOPIN; pin[1] = NOPIN;
    data[0] = -1; data[1] = -1;
    alive[0] = 1; alive[1] = 1; alive[W0] = 1; alive[W1] = 1;
    run Writer(W0);
    run Writer(W1);
    run Reader(0, MAXOPS, 1);                 /* every operation */
    run Reader(1, MAXOPS1, 0)                 /* ReadFrom.Oldest, then Read only */
  }
}
