/*
 * The writer lease (and the head of every reader slot): OwnerBlock.TryClaim, WriteIdentity, Release, CheckOwner,
 * ProcessIdentity.Check, Heartbeat.BeatAll, and the writers' lease check before each append
 * (LogWriter.ThrowIfLeaseLost; RingWriter.Rescan checks the same way).
 *
 * Three processes (pids 1..3) each try to claim the writer lease; the one that holds it appends (checks the lease,
 * then writes) and finally releases it, unless it crashes first. The owner word is epoch * 4 + pid (the code packs
 * pid | epoch << 32); the identity (start time) is published after the CAS with a release store of the identity
 * epoch, as WriteIdentity does.
 *
 * Memory model: sequentially consistent. The CAS is interlocked (a full fence); WriteIdentity's plain stores of
 * the start time are published by the release store of the identity epoch, which CheckOwner acquire-loads before
 * it reads the start time (a release/acquire pair: on ARM64 it must be stlr/ldar).
 *
 * Liveness as the OS tells it (ProcessIdentity.Check): a pid that does not exist is dead; a pid whose start time
 * differs from the recorded one was reused and is dead; otherwise alive. With HEARTBEAT=1 the OS cannot tell
 * (the owner lives in another pid namespace): the owner is presumed dead once its heartbeat is older than
 * OwnerBlock.HeartbeatTimeoutMs; a live owner's heartbeat can go stale when it stalls (a stop signal, a frozen
 * container), which the model lets happen at any time. With PIDREUSE=1 the pid of a dead process may be given to
 * a new, unrelated process.
 *
 * Crashes: one process may stop at any step (also between the CAS and WriteIdentity).
 *
 * Properties:
 *   never two writers: at most one process is inside an append (between its lease check and its last store);
 *   recoverable: when everything has stopped, a lease whose owner is dead is seen as dead by CheckOwner, so the
 *   next TryClaim takes it over.
 * Expected results: HEARTBEAT=0 PIDREUSE=0 passes. HEARTBEAT=1 violates "never two writers" (a stalled owner is
 * taken over while it is inside an append: the limit of a lease without fencing tokens; it notices at its next
 * lease check). PIDREUSE=1 violates "recoverable" (see docs/model.md: a claimer killed between its CAS and its
 * identity store, whose pid is then reused, leaves a lease that looks alive as long as the new process lives).
 */

#ifndef HEARTBEAT
#define HEARTBEAT 0
#endif
#ifndef PIDREUSE
#define PIDREUSE 0
#endif
#ifndef APPENDS
#define APPENDS 1
#endif

#define NP 4                 /* pids 1..3; 0 = free */
#define DEAD 0
#define ALIVE 1

byte Word;                   /* OwnerLayout owner word: epoch * 4 + pid */
byte IdentityEpoch;          /* OwnerLayout identity epoch (release after the start time) */
byte StartTime;              /* OwnerLayout start time (plain, published by the identity epoch) */
bool procAlive[NP];          /* the OS's view: pid exists */
byte procStart[NP];          /* the OS's view: that pid's start time */
bool stale;                  /* HEARTBEAT=1: the owner's heartbeat is older than the timeout */
bool writing[NP];            /* ghost: process p is inside an append */
bool crashedMidClaim[NP];    /* ghost */

/* another live process is inside an append */
#define OTHER_WRITES(me, q) (q != me && writing[q] && procAlive[q] && procStart[q] == q)

/* OwnerBlock.CheckOwner(word) -> res (ALIVE or DEAD); ProcessIdentity.Check inside */
inline CheckOwner(w, res) {
  atomic {
    cpid = w % 4;
    cep = w / 4;
    if
    :: cpid == 0 -> res = DEAD
    :: else ->
       if
       :: IdentityEpoch == cep -> cst = StartTime          /* acquire identity epoch, then the start time */
       :: else -> cst = 0                                   /* claim in flight: only the pid counts */
       fi;
#if HEARTBEAT
       res = (stale -> DEAD : ALIVE)                        /* Liveness.Unknown: heartbeat older than the timeout? */
#else
       if
       :: !procAlive[cpid] -> res = DEAD                    /* no such process */
       :: procAlive[cpid] && cst != 0 && procStart[cpid] != cst -> res = DEAD   /* pid reused */
       :: else -> res = ALIVE
       fi
#endif
    fi;
    cpid = 0; cep = 0; cst = 0
  }
}

proctype Claimant(byte me) {
  byte w, claimed, attempts, appends, res, cpid, cep, cst;
  bool won;
  {
    do
    :: attempts >= 2 -> break
    :: else ->
       attempts++;
       /* OwnerBlock.TryClaim */
       w = Word;                                            /* acquire the owner word */
       CheckOwner(w, res);
       if
       :: w % 4 != 0 && res != DEAD -> skip                 /* a live owner: 0 */
       :: else ->
          claimed = ((w / 4 + 1) % 16) * 4 + me;
          atomic {                                          /* CAS the owner word */
            won = (Word == w);
            if
            :: won -> Word = claimed; crashedMidClaim[me] = 1
            :: else
            fi }
          if
          :: won ->
             /* OwnerBlock.WriteIdentity */
             if
             :: HEARTBEAT -> stale = 0                      /* Beat: release heartbeat */
             :: else
             fi;
             StartTime = procStart[me];                     /* plain store of the start time */
             atomic { IdentityEpoch = claimed / 4; crashedMidClaim[me] = 0 }   /* release the identity epoch */
             /* the writer: appends, each after its lease check */
             do
             :: appends >= APPENDS -> break
             :: else ->
                appends++;
                atomic {                                    /* LogWriter.ThrowIfLeaseLost: acquire the owner word */
                  if
                  :: Word == claimed -> writing[me] = 1
                  :: else -> goto lost
                  fi }
                assert(!(OTHER_WRITES(me, 1) || OTHER_WRITES(me, 2) || OTHER_WRITES(me, 3)));   /* never two writers */
                writing[me] = 0                             /* LogAppender.Publish: the append's stores */
             od;
lost:
             /* OwnerBlock.Release: CAS the owner word back to free (pid 0, same epoch) */
             atomic {
               if
               :: Word == claimed -> Word = (claimed / 4) * 4
               :: else
               fi };
             break
          :: else
          fi
       fi
    od
  } unless { !procAlive[me] || procStart[me] != me }
}

/* One process dies at any step; with PIDREUSE its pid may then go to a new, unrelated process. */
proctype Killer() {
  byte victim;
  if
  :: victim = 1
  :: victim = 2
  :: victim = 3
  :: skip
  fi;
  if
  :: victim != 0 ->
     procAlive[victim] = 0;
#if HEARTBEAT
     stale = 1;                                             /* a dead owner stops beating */
#endif
#if PIDREUSE
     if
     :: atomic { procAlive[victim] = 1; procStart[victim] = 9 }   /* the pid is reused */
     :: skip
     fi
#endif
  :: else
  fi
}

#if HEARTBEAT
/* A live owner stalls: its heartbeat goes stale although it lives. */
proctype Staller() {
  stale = 1
}
#endif

/* Recoverable: once nothing moves, a dead owner's lease is seen as dead. */
proctype Monitor() {
  byte res, cpid, cep, cst, owner;
  atomic {
    timeout ->
    owner = Word % 4;
    CheckOwner(Word, res);
    assert(!(owner != 0 && (!procAlive[owner] || procStart[owner] != owner) && res != DEAD))
  }
}

init {
  atomic {
    procAlive[1] = 1; procAlive[2] = 1; procAlive[3] = 1;
    procStart[1] = 1; procStart[2] = 2; procStart[3] = 3;
    run Claimant(1);
    run Claimant(2);
    run Claimant(3);
    run Killer();
#if HEARTBEAT
    run Staller();
#endif
    run Monitor()
  }
}
