#pragma once
// One `threads` option for the three thread pools that share these cores: torch's intra-op
// pool, OpenMP (FAISS) and OpenBLAS. Setting them separately oversubscribes.

namespace lookalike::util {

/// Sets torch, OpenMP and OpenBLAS to `threads` threads (<= 0: the machine's cores, divided among
/// the processes of a distributed run on it: LOCAL_WORLD_SIZE).
/// Returns the number set.
int set_threads(int threads);

/// The number of threads currently in use by torch's intra-op pool.
int get_threads();

/// Limits the calling thread's own parallel regions (OpenMP ICVs are per thread): used by
/// background loader threads so they do not compete with the training thread's pool.
void limit_this_thread(int threads);

}  // namespace lookalike::util
