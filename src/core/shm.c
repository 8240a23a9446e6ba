/* SPDX-License-Identifier: MIT */
/* shm.c - the shared counter block, mapped once by the master before fork, handed on by an upgrade. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "core/shm.h"

/* A zero-filled block in a fresh memfd; NULL on failure (errno set). */
static struct sw_shm *map_new(int *fd)
{
	struct sw_shm *shm;

	*fd = memfd_create("swerver-shm", MFD_CLOEXEC);
	if (*fd < 0)
		return NULL;
	if (ftruncate(*fd, sizeof(*shm)) != 0)
		goto fail;
	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (shm == MAP_FAILED)
		goto fail;
	shm->head.magic = SW_SHM_MAGIC;
	shm->head.size = sizeof(*shm);
	return shm;
fail:
	close(*fd);
	*fd = -1;
	return NULL;
}

static void init_body(struct sw_shm *shm)
{
	shm->started_at = (uint64_t)time(NULL);
	shm->generation = 1;
}

struct sw_shm *sw_shm_create(int *fd)
{
	struct sw_shm *shm = map_new(fd);

	if (!shm)
		return NULL;
	init_body(shm);
	shm->head.tree_id = (uint64_t)getpid();
	/* getrandom cannot fail for 32 bytes once the pool is ready (it blocks until then). */
	if (getrandom(shm->head.secret, sizeof(shm->head.secret), 0) !=
	    (ssize_t)sizeof(shm->head.secret)) {
		sw_shm_destroy(shm);
		close(*fd);
		*fd = -1;
		return NULL;
	}
	sw_ticket_keys_rotate(&shm->head.tickets);
	memcpy(shm->head.tickets.previous, shm->head.tickets.current, SW_TICKET_KEY_LEN);
	return shm;
}

struct sw_shm *sw_shm_attach(int *fd, char *err, size_t err_size)
{
	struct sw_shm_head *old;
	struct sw_shm *shm;
	struct stat st;
	int fresh;

	if (fstat(*fd, &st) != 0 || (size_t)st.st_size < sizeof(*old)) {
		snprintf(err, err_size, "descriptor %d is not a shared-memory block", *fd);
		return NULL;
	}
	old = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (old == MAP_FAILED) {
		snprintf(err, err_size, "cannot map the shared-memory block: %s", strerror(errno));
		return NULL;
	}
	if (old->magic != SW_SHM_MAGIC || old->size != (uint64_t)st.st_size) {
		snprintf(err, err_size, "the shared-memory block has another header version");
		munmap(old, (size_t)st.st_size);
		return NULL;
	}
	if (old->size == sizeof(*shm))
		return (struct sw_shm *)old;
	/* Another layout: counters start again, what makes the tree one carries over. */
	shm = map_new(&fresh);
	if (shm) {
		memcpy(&shm->head, old, sizeof(shm->head));
		shm->head.size = sizeof(*shm);
		init_body(shm);
		close(*fd);
		*fd = fresh;
	} else {
		snprintf(err, err_size, "cannot make a shared-memory block: %s", strerror(errno));
	}
	munmap(old, (size_t)st.st_size);
	return shm;
}

void sw_ticket_keys_rotate(struct sw_ticket_keys *k)
{
	uint8_t fresh[SW_TICKET_KEY_LEN];

	/* getrandom cannot fail for 80 bytes once the pool is ready (it blocks until then). */
	if (getrandom(fresh, sizeof(fresh), 0) != (ssize_t)sizeof(fresh))
		return;
	__atomic_add_fetch(&k->seq, 1, __ATOMIC_ACQ_REL);
	memcpy(k->previous, k->current, SW_TICKET_KEY_LEN);
	memcpy(k->current, fresh, SW_TICKET_KEY_LEN);
	__atomic_add_fetch(&k->seq, 1, __ATOMIC_ACQ_REL);
}

void sw_ticket_keys_read(const struct sw_ticket_keys *k, uint8_t current[SW_TICKET_KEY_LEN],
			 uint8_t previous[SW_TICKET_KEY_LEN])
{
	uint64_t before, after;

	do {
		before = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
		memcpy(current, k->current, SW_TICKET_KEY_LEN);
		memcpy(previous, k->previous, SW_TICKET_KEY_LEN);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&k->seq, __ATOMIC_ACQUIRE);
	} while ((before & 1) || before != after);
}

void sw_shm_destroy(struct sw_shm *shm)
{
	if (shm)
		munmap(shm, sizeof(*shm));
}

void sw_shm_set_outcome(struct sw_shm *shm, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shm->last_reload, sizeof(shm->last_reload), fmt, ap);
	va_end(ap);
}

struct sw_lcounter_slot *sw_lcounter(struct sw_shm *shm, const char *family, const char *labels)
{
	uint64_t key = 1469598103934665603ull;

	for (const char *p = family; *p; p++)
		key = (key ^ (uint8_t)*p) * 1099511628211ull;
	key = (key ^ '{') * 1099511628211ull;
	for (const char *p = labels; *p; p++)
		key = (key ^ (uint8_t)*p) * 1099511628211ull;
	key |= 1;
	for (unsigned i = 0; i < SW_LCOUNTER_SLOTS; i++) {
		struct sw_lcounter_slot *c = &shm->lcounters[(key + i) % SW_LCOUNTER_SLOTS];
		uint64_t k = __atomic_load_n(&c->key, __ATOMIC_ACQUIRE);

		if (k == 0 && __atomic_compare_exchange_n(&c->key, &k, key, false, __ATOMIC_ACQ_REL,
							  __ATOMIC_ACQUIRE)) {
			snprintf(c->family, sizeof(c->family), "%s", family);
			snprintf(c->labels, sizeof(c->labels), "%s", labels);
			__atomic_store_n(&c->ready, 1, __ATOMIC_RELEASE);
			return c;
		}
		if (k == key)
			return c;
	}
	return NULL;
}
