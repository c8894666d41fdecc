/*
 * The segmented log's protocol: LogWriter (Publish, Roll, AwaitFree, Recover), LogReader (the constructor's
 * ResumeAtOldest, TryRead, Validate, NextSegment, IsIntact) and ReaderTable (PinOldest, Activate, MinPin,
 * EvictAtOrBelow, TryReap).
 *
 * Three segment slots, one record per segment (SegmentCapacity = 1, so every append after the first rolls), one
 * retained sealed segment (Oldest = head generation - 1) and one spare: generation g lives in slot g % 3, and
 * generation 3 reuses the slot of generation 0. The writer appends NRECORDS records; record s carries payload s.
 * A second writer takes the lease over once the first is dead (lease.pml) and recovers.
 *
 * Switches: BLOCK=1 Block (default), 0 Evict; CRASH=1 the first writer or either reader may stop at any step
 * (default), 0 no crash; VICTIM 0/1/2 only reader 0, reader 1 or the first writer may be stopped (default 9: any one
 * of them); MAXOPS TryRead calls of reader 0; NRECORDS records written; NORECOUNT=1 the seeded recovery bug: Recover
 * finds a committed but uncounted record and does not publish its count [expected: L4 violated, with a crash of the
 * first writer only].
 *
 * Crashes, as in ring.pml: every step that touches shared memory is written STEP(...), the access or instead the
 * crash (CRASH_STEP), which marks the process dead; its local variables are cleared right after (at crashed:, a
 * local step taken before any other process moves). A process may also stop while it sleeps or after its last
 * step. A stop between two purely local steps is the same as a stop before the next access. Its shared state stays.
 *
 * Memory model: as in ring.pml. Sequentially consistent; each STEP is one access to shared memory with the
 * process's own bookkeeping. x64 is TSO, so only store->load pairs can be reordered, and the code fences the
 * two that matter: the Dekker handshake of a reader's pin (ReaderTable.PinOldest: store pin; FullFence; load
 * Oldest) against the writer raising Oldest (LogAppender.Roll: release Oldest; FullFence; scan pins), and the
 * seqlock mark (LogAppender.Roll: Exchange generation to -1, then overwrite) against the reader's validation (read
 * record; LoadFence; load generation). Everything else is a release store paired with an acquire load.
 *
 * Properties (assertions):
 *   L1 torn:   TryRead never returns, and Validate never approves, a record whose payload is not its sequence's;
 *   L2 block:  under Block, the writer never overwrites the slot of a generation that a live, non-evicted reader
 *              holds a record of (checked when the writer stores into the reused slot);
 *   L3 exact:  records delivered + LostCount = the sequence numbers the reader went through;
 *   L4 order:  a reader delivers sequence numbers in order, without gaps other than those counted lost.
 */

#ifndef BLOCK
#define BLOCK 1
#endif
#ifndef NRECORDS
#define NRECORDS 4
#endif
#ifndef MAXOPS
#define MAXOPS 3
#endif
#ifndef CRASH
#define CRASH 1
#endif
#ifndef VICTIM
#define VICTIM 9             /* with CRASH=1: 0 or 1 only that reader may crash, 2 only the first writer; 9 any */
#endif
#ifndef NORECOUNT
#define NORECOUNT 0          /* seeded bug: Recover counts a committed record but does not publish the count */
#endif

#define SLOTS   3
#define NR      2
#define NOPIN   99
#define IDLE    0
#define ACTIVE  1
#define EVICTED 2
#define W0      2
#define W1      3

#define MAX(a, b) ((a) > (b) -> (a) : (b))

/* LogLayout hot counters */
short Head;                  /* Head Generation */
short Oldest;                /* Oldest Generation */
/* SegmentLayout of each slot */
short gen[SLOTS];            /* Generation (-1 while reused) */
short first[SLOTS];          /* First Sequence */
byte cnt[SLOTS];             /* Record Count */
byte lenw[SLOTS];             /* the record's length word (0 = not committed) */
short payload[SLOTS];        /* the record's payload: its sequence number */
/* ReaderSlotLayout */
short pin[NR];
byte state[NR];
bool owned[NR];
bool alive[4];
/* ghost */
short held[NR];              /* generation of the record a reader holds (TryRead until the next call), or -1 */

/* ---------------------------------------------------------------- crashes (as in ring.pml) */

#if CRASH
#if VICTIM == 9
#define MAY_CRASH(who)  ((who) != W1 && alive[0] && alive[1] && alive[W0])   /* any one, once */
#else
#define MAY_CRASH(who)  ((who) == VICTIM)
#endif
#define CRASH_STEP  :: d_step { MAY_CRASH(ME) -> alive[ME] = 0; GHOSTS_CLEARED }; goto crashed
#else
#define CRASH_STEP
#endif
/* one step that touches shared memory, or the crash instead of it */
#define STEP(...)  if :: atomic { __VA_ARGS__ } CRASH_STEP fi

/* ---------------------------------------------------------------- writer */
#define ME me
#define LOCALS_CLEARED \
  head = 0; seq = 0; g = 0; s = 0; minPin = 0; m = 0; p = 0; snap0 = 0; snap1 = 0; count = 0; i = 0; step = 0; \
  evictions = 0
#define GHOSTS_CLEARED skip

/* ReaderTable.MinPin(reap) over both slots, one slot per step (see ring.pml for why one slot is one step); the end
   of the scan is local and ends the step of the last slot */
inline MinPin(reap) {
  m = NOPIN; i = 0; step = 0;
  do
  :: atomic { step == 0 && i < NR ->
       if
       :: owned[i] && state[i] == ACTIVE && pin[i] < m -> p = pin[i]; step = 1
       :: else -> i++
       fi;
       if :: step == 0 && i >= NR -> minPin = m; i = 0; m = 0; break :: else fi }
  :: atomic { step == 1 ->                                  /* OwnerBlock.TryReap when dead */
       if :: reap && owned[i] && !alive[i] -> owned[i] = 0 :: else -> m = p fi;
       step = 0; p = 0; i++;
       if :: i >= NR -> minPin = m; i = 0; m = 0; break :: else fi }
  CRASH_STEP
  od
}

inline EvictAtOrBelow(limit) {
  i = 0; step = 0;
  do
  :: atomic { step == 0 && i < NR ->
       if :: owned[i] && pin[i] <= limit -> step = 1 :: else -> i++ fi;
       if :: step == 0 && i >= NR -> i = 0; break :: else fi }
  :: atomic { step == 1 ->                                  /* CAS state Active -> Evicted */
       if :: state[i] == ACTIVE -> state[i] = EVICTED :: else fi;
       step = 0; i++;
       if :: i >= NR -> i = 0; break :: else fi }
  CRASH_STEP
  od
}

proctype Writer(byte me) {
  short head, seq, g, s, minPin, m, p, snap0, snap1;
  byte count, i, step, evictions;

  if
  :: me == W1 ->
end_standby:
     !alive[W0]
  :: else
  fi;

  /* LogWriter.Recover: publish what a dead writer committed but did not count */
  STEP(head = Head; s = head % SLOTS);
  STEP(count = cnt[s]);
  if
  :: count == 0 ->
     STEP(if :: lenw[s] != 0 -> count = 1 :: else fi);      /* acquire the length word */
     if
#if NORECOUNT
     :: count == 1 -> skip                                  /* (seeded bug) the count is not published */
#else
     :: count == 1 -> STEP(cnt[s] = 1)                      /* Recover: release the count */
#endif
     :: else
     fi
  :: else
  fi;
  STEP(seq = first[s] + count);

  do
  :: seq >= NRECORDS -> break
  :: else ->
     if
     :: count == 1 ->
        /* LogAppender.Roll */
        STEP(g = head + 1;
             if
             :: g - 1 > Oldest -> Oldest = g - 1                /* Roll: release Oldest (retire) */
             :: else
             fi);
                                                            /* Roll: FullFence */
        if
        :: g - SLOTS >= 0 ->
           /* LogWriter.AwaitFree(reused = g - SLOTS) */
           do
           :: MinPin(1);
              if
              :: minPin > g - SLOTS -> minPin = 0; break
              :: else ->
#if BLOCK
                 minPin = 0;
                 if
                 :: evictions < 1 -> evictions++;           /* SlowReaderTimeout passed */
                    EvictAtOrBelow(g - SLOTS)
                 :: STEP(snap0 = pin[0] * 8 + state[0] * 2 + owned[0]; snap1 = pin[1] * 8 + state[1] * 2 + owned[1]);
end_sleep:
                    STEP((snap0 != pin[0] * 8 + state[0] * 2 + owned[0] || snap1 != pin[1] * 8 + state[1] * 2 + owned[1]
                          || owned[0] && !alive[0] || owned[1] && !alive[1]) -> snap0 = 0; snap1 = 0)
                 fi
#else
                 minPin = 0;
                 EvictAtOrBelow(g - SLOTS);                 /* Evict: at once */
                 break
#endif
              fi
           od
        :: else
        fi;
        STEP(s = g % SLOTS; gen[s] = -1);                   /* Roll: Exchange generation to -1 (full fence) */
        STEP(first[s] = seq);                               /* Roll: first sequence */
        STEP(cnt[s] = 0);                                   /* Roll: count 0 */
        STEP(                                               /* Roll: zero the first length word (the overwrite) */
#if BLOCK
             assert(!(alive[0] && state[0] != EVICTED && held[0] >= 0 && held[0] == g - SLOTS));   /* L2 */
             assert(!(alive[1] && state[1] != EVICTED && held[1] >= 0 && held[1] == g - SLOTS));
#endif
             lenw[s] = 0);
        STEP(gen[s] = g);                                   /* Roll: release the slot generation */
        STEP(Head = g; head = g; count = 0; g = 0)          /* Roll: release Head Generation */
     :: else
     fi;
     /* LogAppender.Publish */
     STEP(payload[s] = seq);                                /* the payload (and type id, index entry) */
     STEP(lenw[s] = 1);                                     /* Publish: release the length word (the commit) */
     STEP(cnt[s] = 1; count = 1; seq++)                     /* Publish: release the record count */
  od;
  LOCALS_CLEARED;                                           /* done: only its shared state matters */
#if CRASH
end_done:
  if CRASH_STEP fi;                                         /* it may still crash */
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
#define LOCALS_CLEARED \
  g = 0; next = 0; lost = 0; delivered = 0; v = 0; f = 0; c = 0; base = 0; idx = 0; ops = 0; started = 0; \
  intact = 0; holding = 0; rearm = 0
#define GHOSTS_CLEARED held[r] = -1

/* ReaderTable.PinOldest(atLeast 0) + the rest of LogReader.ResumeAtOldest */
inline ResumeAtOldest() {
  STEP(held[r] = -1; state[r] = ACTIVE);                    /* ReaderTable.Activate */
  do
  :: STEP(v = Oldest);                                      /* PinOldest: acquire Oldest */
     do
     :: STEP(pin[r] = v);                                   /* PinOldest: release pin; FullFence */
        STEP(if
             :: Oldest <= v -> break                        /* PinOldest: acquire Oldest again */
             :: else -> v = Oldest
             fi)
     od;
     STEP(f = first[v % SLOTS]);                            /* ResumeAtOldest: acquire first sequence */
     STEP(if                                                /* ResumeAtOldest: LoadFence; acquire generation */
          :: gen[v % SLOTS] == v -> break
          :: else -> f = 0
          fi)
  od;
  if
  :: started && f < next -> skip                            /* still retained: SeekWithin (never go back) */
  :: started && f > next -> lost = lost + f - next; next = f; idx = 0; g = v
  :: else -> next = f; idx = 0; g = v
  fi;
  if
  :: started && f < next ->                                 /* SeekWithin: the generation holding next */
     g = v + (next - f); idx = 0
  :: else
  fi;
  started = 1; f = 0; v = 0;
  STEP(pin[r] = g)                                          /* (SeekWithin: release pin) */
}

proctype Reader(byte r; byte maxops) {
  short g, next, lost, delivered, v, f, c, base;
  byte idx, ops;
  bool started, intact, holding, rearm;                    /* holding: held[r] >= 0, the reader's own copy */

  STEP(owned[r] = 1; state[r] = IDLE; pin[r] = NOPIN; held[r] = -1);   /* ReaderTable.Claim */
  ResumeAtOldest();                                         /* LogReader..ctor (ReadFrom.Oldest) */
  base = next; lost = 0;

  do
  :: ops >= maxops -> break
  :: else ->
     ops++;
     /* LogReader.TryRead */
     if
     :: holding ->
        STEP(intact = gen[g % SLOTS] == g; held[r] = -1; holding = 0);   /* IsIntact: LoadFence; acquire generation */
        if
        :: !intact -> lost++; delivered--; ResumeAtOldest()  /* the held record counts lost */
        :: else -> intact = 0
        fi
     :: else
     fi;
     do
     :: STEP(c = cnt[g % SLOTS]);                           /* LogFile.ReadCount: acquire the count */
        if
        :: idx < c ->
           STEP(f = lenw[g % SLOTS]);                       /* LogFile.TryLocate: the length word */
           STEP(v = payload[g % SLOTS]);                    /* the record (read in place) */
           STEP(intact = gen[g % SLOTS] == g;               /* IsIntact: LoadFence; acquire generation */
                if
                :: f != 0 && intact ->                      /* returned: held until the next call */
                   assert(v == next);                       /* L1, L4 */
                   held[r] = g; holding = 1; idx++; next++; delivered++; v = 0; f = 0; c = 0; intact = 0;
                   break
                :: else
                fi);
           /* LogReader.CorruptOrLapped */
           v = 0; f = 0; c = 0;
           STEP(intact = gen[g % SLOTS] == g);
           assert(!intact);                                 /* lapped, never corrupt */
           ResumeAtOldest()
        :: else ->
           STEP(v = Head; c = 0);                           /* TryRead: acquire Head Generation */
           if
           :: v > g -> STEP(c = cnt[g % SLOTS])             /* TryRead: a newer head; acquire the count again */
           :: else
           fi;
           if
           :: v <= g || c > idx -> v = 0; c = 0; break      /* caught up (records that came meanwhile: next call) */
           :: else ->
              /* LogReader.NextSegment */
              v = 0; c = 0;
              STEP(intact = gen[g % SLOTS] == g);
              if
              :: !intact -> ResumeAtOldest()
              :: else ->
                 intact = 0; g++; idx = 0;
                 STEP(pin[r] = g);                          /* NextSegment: release pin */
                 STEP(rearm = state[r] == EVICTED);         /* NextSegment: IsEvicted */
                 if
                 :: rearm -> rearm = 0; STEP(state[r] = ACTIVE)   /* NextSegment: re-arm */
                 :: else
                 fi;
                 STEP(f = first[g % SLOTS]);                /* NextSegment: acquire first sequence */
                 STEP(intact = gen[g % SLOTS] == g);        /* IsIntact */
                 if
                 :: !intact -> f = 0; ResumeAtOldest()
                 :: else -> assert(f == next); f = 0; intact = 0   /* the next segment starts where this one ended */
                 fi
              fi
           fi
        fi
     od;
     assert(delivered + lost == next - base)                /* L3 */
  od;
  if
  :: holding ->                                             /* LogReader.Validate on the last record */
     STEP(intact = gen[g % SLOTS] == g; held[r] = -1; holding = 0);
     if
     :: !intact -> lost++; delivered--
     :: else -> intact = 0
     fi;
     assert(delivered + lost == next - base)
  :: else
  fi;
  LOCALS_CLEARED;                                           /* done: only its shared state matters */
#if CRASH
end_done:
  if CRASH_STEP fi;                                         /* it may still crash */
crashed:
  atomic { LOCALS_CLEARED };                                /* gone with the process (a local step, taken at once) */
end_crashed:
  false
#endif
}

init {
  atomic {
    gen[0] = 0; gen[1] = -2; gen[2] = -2;
    payload[0] = -1; payload[1] = -1; payload[2] = -1;
    pin[0] = NOPIN; pin[1] = NOPIN;
    held[0] = -1; held[1] = -1;
    alive[0] = 1; alive[1] = 1; alive[W0] = 1; alive[W1] = 1;
    run Writer(W0);
    run Writer(W1);
    run Reader(0, MAXOPS);
    run Reader(1, 1)
  }
}
