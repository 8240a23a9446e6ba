/* SPDX-License-Identifier: MIT */
/* test_shm.c - the shared block in a memfd: what a binary upgrade's new master maps, and carries across a layout change. */
#include <config.h>

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/shm.h"
#include "check_main.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A fresh block names its tree after us and has a secret and ticket keys. */
START_TEST(create_fills_head)
{
	int fd = -1;
	struct sw_shm *shm = sw_shm_create(&fd);

	ck_assert_ptr_nonnull(shm);
	ck_assert_int_ge(fd, 0);
	ck_assert_uint_eq(shm->head.magic, SW_SHM_MAGIC);
	ck_assert_uint_eq(shm->head.size, sizeof(*shm));
	ck_assert_uint_eq(shm->head.tree_id, (uint64_t)getpid());
	ck_assert(!all_zero(shm->head.secret, sizeof(shm->head.secret)));
	ck_assert(!all_zero(shm->head.tickets.current, SW_TICKET_KEY_LEN));
	ck_assert_uint_eq(shm->generation, 1);
	sw_shm_destroy(shm);
	close(fd);
}
END_TEST

/* The same layout: the new master maps the very block, so counters are shared. */
START_TEST(attach_shares)
{
	int fd = -1, fd2;
	struct sw_shm *a = sw_shm_create(&fd), *b;
	char err[256] = "";

	ck_assert_ptr_nonnull(a);
	fd2 = dup(fd);
	b = sw_shm_attach(&fd2, err, sizeof(err));
	ck_assert_msg(b != NULL, "%s", err);
	ck_assert_ptr_ne(a, b);
	sw_stat_add(&a->reloads, 7);
	ck_assert_uint_eq(sw_stat_get(&b->reloads), 7);
	ck_assert_mem_eq(a->head.secret, b->head.secret, SW_SHM_SECRET_LEN);
	sw_shm_destroy(a);
	sw_shm_destroy(b);
	close(fd);
	close(fd2);
}
END_TEST

/*
 * A block made by a binary with another struct sw_shm (here: larger): the
 * new master gets a block of its own layout with the old head (secret,
 * tree id, ticket keys), fresh counters, and a new memfd.
 */
START_TEST(attach_other_layout_keeps_head)
{
	size_t size = sizeof(struct sw_shm) + 4096;
	int fd = memfd_create("test-shm", MFD_CLOEXEC), old_fd;
	struct sw_shm_head *old;
	struct sw_shm *shm;
	char err[256] = "";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	old = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(old != MAP_FAILED);
	old->magic = SW_SHM_MAGIC;
	old->size = size;
	old->tree_id = 4242;
	memset(old->secret, 0xab, sizeof(old->secret));
	memset(old->tickets.current, 0xcd, SW_TICKET_KEY_LEN);
	old_fd = fd;
	shm = sw_shm_attach(&fd, err, sizeof(err));
	ck_assert_msg(shm != NULL, "%s", err);
	ck_assert_int_ne(fd, old_fd);
	ck_assert_uint_eq(shm->head.size, sizeof(*shm));
	ck_assert_uint_eq(shm->head.tree_id, 4242);
	ck_assert_mem_eq(shm->head.secret, old->secret, SW_SHM_SECRET_LEN);
	ck_assert_mem_eq(shm->head.tickets.current, old->tickets.current, SW_TICKET_KEY_LEN);
	ck_assert_uint_eq(shm->generation, 1);
	ck_assert_uint_eq(shm->reloads, 0);
	sw_shm_destroy(shm);
	munmap(old, size);
	close(fd);
}
END_TEST

/* Not a block of ours: refused with a reason, nothing mapped. */
START_TEST(attach_refuses_strangers)
{
	int fd = memfd_create("test-shm", MFD_CLOEXEC);
	char err[256] = "";
	uint64_t junk[64] = { 1, 2, 3 };

	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(sw_shm_attach(&fd, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a shared-memory block"), "%s", err);
	ck_assert_int_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	ck_assert_ptr_null(sw_shm_attach(&fd, err, sizeof(err)));
	ck_assert_msg(strstr(err, "another header version"), "%s", err);
	close(fd);
}
END_TEST

static Suite *shm_suite(void)
{
	Suite *s = suite_create("shm");
	TCase *tc = tcase_create("shm");

	tcase_add_test(tc, create_fills_head);
	tcase_add_test(tc, attach_shares);
	tcase_add_test(tc, attach_other_layout_keeps_head);
	tcase_add_test(tc, attach_refuses_strangers);
	suite_add_tcase(s, tc);
	return s;
}

SW_TEST_SUITE(shm_suite);
