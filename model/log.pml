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
 * Switches: BLOCK=1 Block (default), 0 Evict; CRASH=1 a Killer may stop the first writer or either reader at any
 * step (default), 0 no crash; VICTIM 0/1/2 only reader 0, reader 1 or the first writer may be stopped (default 9:
 * any one of them); MAXOPS TryRead calls of reader 0; NRECORDS records written; NORECOUNT=1 the seeded recovery
 * bug: Recover finds a committed but uncounted record and does not publish its count [expected: L4 violated, with
 * a crash of the first writer only].
 *
 * Memory model: as in ring.pml. Sequentially consistent; each atomic block is one access to shared memory with
 * the process's own bookkeeping. x64 is TSO, so only store->load pairs can be reordered, and the code fences the
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
/* ghosts */
short held[NR];              /* generation of the record a reader holds (TryRead until the next call), or -1 */
bool evictedEver[NR];

/* ReaderTable.MinPin(reap) over both slots, one slot per step (see ring.pml for why one slot is one step) */
inline MinPin(reap) {
  atomic { m = NOPIN; i = 0; step = 0 }
  do
  :: atomic { step == 0 && i >= NR -> minPin = m; i = 0; m = 0; break }
  :: atomic { step == 0 && i < NR ->
       if
       :: owned[i] && state[i] == ACTIVE && pin[i] < m -> p = pin[i]; step = 1
       :: else -> i++
       fi }
  :: atomic { step == 1 ->                                  /* OwnerBlock.TryReap when dead */
       if :: reap && owned[i] && !alive[i] -> owned[i] = 0 :: else -> m = p fi;
       step = 0; p = 0; i++ }
  od
}

inline EvictAtOrBelow(limit) {
  atomic { i = 0; step = 0 }
  do
  :: atomic { step == 0 && i >= NR -> i = 0; break }
  :: atomic { step == 0 && i < NR ->
       if :: owned[i] && pin[i] <= limit -> step = 1 :: else -> i++ fi }
  :: atomic { step == 1 ->                                  /* CAS state Active -> Evicted */
       if :: state[i] == ACTIVE -> state[i] = EVICTED; evictedEver[i] = 1 :: else fi;
       step = 0; i++ }
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

  {
    /* LogWriter.Recover: publish what a dead writer committed but did not count */
    atomic { head = Head; s = head % SLOTS }
    atomic { count = cnt[s] }
    if
    :: count == 0 -> atomic { if :: lenw[s] != 0 -> count = 1 :: else fi }   /* acquire the length word */
       if
#if NORECOUNT
       :: count == 1 -> skip                                /* (seeded bug) the count is not published */
#else
       :: count == 1 -> cnt[s] = 1                          /* Recover: release the count */
#endif
       :: else
       fi
    :: else
    fi;
    atomic { seq = first[s] + count }

    do
    :: seq >= NRECORDS -> break
    :: else ->
       if
       :: count == 1 ->
          /* LogAppender.Roll */
          atomic {
            g = head + 1;
            if
            :: g - 1 > Oldest -> Oldest = g - 1             /* Roll: release Oldest (retire) */
            :: else
            fi }
                                                            /* Roll: FullFence */
          if
          :: g - SLOTS >= 0 ->
             /* LogWriter.AwaitFree(reused = g - SLOTS) */
             do
             :: MinPin(1);
                if
                :: minPin > g - SLOTS -> break
                :: else ->
#if BLOCK
                   if
                   :: atomic { evictions < 1 -> evictions++ }   /* SlowReaderTimeout passed */
                      EvictAtOrBelow(g - SLOTS)
                   :: atomic { snap0 = pin[0] * 8 + state[0] * 2 + owned[0]; snap1 = pin[1] * 8 + state[1] * 2 + owned[1] }
end_sleep:
                      atomic { (snap0 != pin[0] * 8 + state[0] * 2 + owned[0] || snap1 != pin[1] * 8 + state[1] * 2 + owned[1]
                                || owned[0] && !alive[0] || owned[1] && !alive[1]) -> snap0 = 0; snap1 = 0 }
                   fi
#else
                   EvictAtOrBelow(g - SLOTS);               /* Evict: at once */
                   break
#endif
                fi
             od
          :: else
          fi;
          atomic { s = g % SLOTS; gen[s] = -1 }             /* Roll: Exchange generation to -1 (full fence) */
          first[s] = seq;                                   /* Roll: first sequence */
          cnt[s] = 0;                                       /* Roll: count 0 */
          atomic {                                          /* Roll: zero the first length word (the overwrite) */
#if BLOCK
            assert(!(alive[0] && state[0] != EVICTED && held[0] >= 0 && held[0] == g - SLOTS));   /* L2 */
            assert(!(alive[1] && state[1] != EVICTED && held[1] >= 0 && held[1] == g - SLOTS));
#endif
            lenw[s] = 0 }
          gen[s] = g;                                       /* Roll: release the slot generation */
          atomic { Head = g; head = g; count = 0 }          /* Roll: release Head Generation */
       :: else
       fi;
       /* LogAppender.Publish */
       payload[s] = seq;                                    /* the payload (and type id, index entry) */
       lenw[s] = 1;                                          /* Publish: release the length word (the commit) */
       atomic { cnt[s] = 1; count = 1; seq++ }              /* Publish: release the record count */
    od
  } unless { !alive[me] }
}

/* ReaderTable.PinOldest(atLeast 0) + the rest of LogReader.ResumeAtOldest */
inline ResumeAtOldest() {
  held[r] = -1;
  state[r] = ACTIVE;                                        /* ReaderTable.Activate */
  do
  :: atomic { v = Oldest }                                  /* PinOldest: acquire Oldest */
     do
     :: pin[r] = v;                                         /* PinOldest: release pin; FullFence */
        atomic {
          if
          :: Oldest <= v -> break                           /* PinOldest: acquire Oldest again */
          :: else -> v = Oldest
          fi }
     od;
     atomic { f = first[v % SLOTS] }                        /* ResumeAtOldest: acquire first sequence */
     atomic {                                               /* ResumeAtOldest: LoadFence; acquire generation */
       if
       :: gen[v % SLOTS] == v -> break
       :: else -> f = 0
       fi }
  od;
  atomic {
    if
    :: started && f < next -> skip                          /* still retained: SeekWithin (never go back) */
    :: started && f > next -> lost = lost + f - next; next = f; idx = 0; g = v
    :: else -> next = f; idx = 0; g = v
    fi;
    if
    :: started && f < next ->                               /* SeekWithin: the generation holding next */
       g = v + (next - f); idx = 0
    :: else
    fi;
    started = 1; f = 0 }
  pin[r] = g                                                /* (SeekWithin: release pin) */
}

proctype Reader(byte r; byte maxops) {
  short g, next, lost, delivered, v, f, c, base;
  byte idx, ops;
  bool started, intact;
  {
    atomic { owned[r] = 1; state[r] = IDLE; pin[r] = NOPIN; held[r] = -1 }   /* ReaderTable.Claim */
    ResumeAtOldest();                                       /* LogReader..ctor (ReadFrom.Oldest) */
    atomic { base = next; lost = 0 }

    do
    :: ops >= maxops -> break
    :: else ->
       ops++;
       /* LogReader.TryRead */
       if
       :: held[r] >= 0 ->
          atomic { intact = gen[g % SLOTS] == g; held[r] = -1 }   /* IsIntact: LoadFence; acquire generation */
          if
          :: !intact -> atomic { lost++; delivered-- }; ResumeAtOldest()   /* the held record counts lost */
          :: else
          fi
       :: else
       fi;
       do
       :: atomic { c = cnt[g % SLOTS] }                     /* LogFile.ReadCount: acquire the count */
          if
          :: idx < c ->
             atomic { f = lenw[g % SLOTS] }                  /* LogFile.TryLocate: the length word */
             atomic { v = payload[g % SLOTS] }              /* the record (read in place) */
             atomic { intact = gen[g % SLOTS] == g }        /* IsIntact: LoadFence; acquire generation */
             if
             :: f != 0 && intact ->
                atomic {
                  assert(v == next);                        /* L1, L4 */
                  held[r] = g; idx++; next++; delivered++; v = 0; f = 0; c = 0 }
                break
             :: else ->                                     /* LogReader.CorruptOrLapped */
                atomic { v = 0; f = 0; c = 0; intact = gen[g % SLOTS] == g }
                assert(!intact);                            /* lapped, never corrupt */
                ResumeAtOldest()
             fi
          :: else ->
             atomic { v = Head; c = 0 }                     /* TryRead: acquire Head Generation */
             if
             :: v > g -> atomic { c = cnt[g % SLOTS] }      /* TryRead: a newer head; acquire the count again */
             :: else
             fi;
             if
             :: v <= g || c > idx -> v = 0; c = 0; break    /* caught up (records that came meanwhile: next call) */
             :: else ->
                /* LogReader.NextSegment */
                atomic { v = 0; c = 0; intact = gen[g % SLOTS] == g }
                if
                :: !intact -> ResumeAtOldest()
                :: else ->
                   atomic { g++; idx = 0 }
                   pin[r] = g;                              /* NextSegment: release pin */
                   if
                   :: state[r] == EVICTED -> state[r] = ACTIVE   /* NextSegment: re-arm */
                   :: else
                   fi;
                   atomic { f = first[g % SLOTS] }          /* NextSegment: acquire first sequence */
                   atomic { intact = gen[g % SLOTS] == g }  /* IsIntact */
                   if
                   :: !intact -> f = 0; ResumeAtOldest()
                   :: else -> assert(f == next); f = 0      /* the next segment starts where this one ended */
                   fi
                fi
             fi
          fi
       od;
       assert(delivered + lost == next - base)              /* L3 */
    od;
    if
    :: held[r] >= 0 ->                                      /* LogReader.Validate on the last record */
       atomic { intact = gen[g % SLOTS] == g; held[r] = -1 }
       if
       :: !intact -> lost++; delivered--
       :: else
       fi;
       assert(delivered + lost == next - base)
    :: else
    fi
  } unless { !alive[r] }
}

proctype Killer() {
  if
#if CRASH
#if VICTIM == 9 || VICTIM == 0
  :: alive[0] = 0
#endif
#if VICTIM == 9 || VICTIM == 1
  :: alive[1] = 0
#endif
#if VICTIM == 9 || VICTIM == W0
  :: alive[W0] = 0
#endif
#endif
  :: skip
  fi
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
    run Reader(1, 1);
    run Killer()
  }
}
