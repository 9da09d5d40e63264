/* live_list.h — the pool objects of one kind that exist now, for the report
 * writer and for fork: an intrusive doubly linked list under a held_lock.
 * Adding and removing take the lock; the caller of the inline helpers below
 * holds it. */
#ifndef MK_LIVE_LIST_H
#define MK_LIVE_LIST_H

#include "held_lock.h"

struct mk_live_node {
    struct mk_live_node *prev, *next;
};

struct mk_live_list {
    struct mk_held_lock lock;
    struct mk_live_node head;          /* sentinel */
};

#define MK_LIVE_LIST_INIT(list) { MK_HELD_LOCK_INIT, { &(list).head, &(list).head } }

static inline void mk_live_link(struct mk_live_list *list, struct mk_live_node *n)
{
    n->prev = list->head.prev;
    n->next = &list->head;
    list->head.prev->next = n;
    list->head.prev = n;
}

static inline void mk_live_unlink(struct mk_live_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#define mk_live_each(list, n) \
    for (struct mk_live_node *n = (list)->head.next; n != &(list)->head; n = n->next)

#endif
