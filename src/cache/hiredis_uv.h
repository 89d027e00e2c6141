/* Our libuv adapter for hiredis 0.14, in place of <hiredis/adapters/libuv.h>.
 *
 * Debian's 0.14 adapter returns early when uv_poll reports status < 0. libuv
 * reports an asynchronous connect failure (ECONNREFUSED) that way and stops
 * the handle, so hiredis never learns of it and the connect callback never
 * runs. Like hiredis >= 1.0 we dispatch the events hiredis asked for instead,
 * and its own read or write then finds the real error. We also free the
 * adapter when uv_poll_init fails, and tell the owner when the poll handle is
 * closed, so that it knows when hiredis can no longer call it back. */
#ifndef HIREWIRE_HIREDIS_UV_H
#define HIREWIRE_HIREDIS_UV_H

#include <stdlib.h>
#include <uv.h>
#include <hiredis/async.h>

struct hiredis_uv {
    redisAsyncContext *context; /* NULL once hiredis has cleaned up */
    uv_poll_t handle;
    int events;
    void (*closed)(void *arg);
    void *closed_arg;
};

static void hiredis_uv_poll_cb(uv_poll_t *handle, int status, int events)
{
    struct hiredis_uv *p = handle->data;
    int ev = status ? p->events : events;

    /* hiredis may free the context inside either call; its cleanup hook
     * clears p->context, and p itself lives until the close callback. */
    if (p->context && (ev & UV_READABLE))
        redisAsyncHandleRead(p->context);
    if (p->context && (ev & UV_WRITABLE))
        redisAsyncHandleWrite(p->context);
}

static void hiredis_uv_update(struct hiredis_uv *p)
{
    if (p->events)
        uv_poll_start(&p->handle, p->events, hiredis_uv_poll_cb);
    else
        uv_poll_stop(&p->handle);
}

static void hiredis_uv_add_read(void *privdata)
{
    struct hiredis_uv *p = privdata;
    p->events |= UV_READABLE;
    hiredis_uv_update(p);
}

static void hiredis_uv_del_read(void *privdata)
{
    struct hiredis_uv *p = privdata;
    p->events &= ~UV_READABLE;
    hiredis_uv_update(p);
}

static void hiredis_uv_add_write(void *privdata)
{
    struct hiredis_uv *p = privdata;
    p->events |= UV_WRITABLE;
    hiredis_uv_update(p);
}

static void hiredis_uv_del_write(void *privdata)
{
    struct hiredis_uv *p = privdata;
    p->events &= ~UV_WRITABLE;
    hiredis_uv_update(p);
}

static void hiredis_uv_on_close(uv_handle_t *handle)
{
    struct hiredis_uv *p = handle->data;
    if (p->closed)
        p->closed(p->closed_arg);
    free(p);
}

static void hiredis_uv_cleanup(void *privdata)
{
    struct hiredis_uv *p = privdata;
    p->context = NULL;
    uv_close((uv_handle_t *)&p->handle, hiredis_uv_on_close);
}

/* Attaches ac to loop. closed(arg), if not NULL, runs once the poll handle is
 * closed, after hiredis has finished with ac. Returns REDIS_OK or REDIS_ERR
 * (nothing attached, nothing to clean up). */
static int hiredis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop, void (*closed)(void *arg),
                             void *closed_arg)
{
    if (ac->ev.data != NULL)
        return REDIS_ERR;
    struct hiredis_uv *p = calloc(1, sizeof(*p));
    if (!p)
        return REDIS_ERR;
    if (uv_poll_init(loop, &p->handle, ac->c.fd) != 0) {
        free(p);
        return REDIS_ERR;
    }
    p->handle.data = p;
    p->context = ac;
    p->closed = closed;
    p->closed_arg = closed_arg;
    ac->ev.data = p;
    ac->ev.addRead = hiredis_uv_add_read;
    ac->ev.delRead = hiredis_uv_del_read;
    ac->ev.addWrite = hiredis_uv_add_write;
    ac->ev.delWrite = hiredis_uv_del_write;
    ac->ev.cleanup = hiredis_uv_cleanup;
    return REDIS_OK;
}

#endif
