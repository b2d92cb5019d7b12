#ifndef CRABBIT_SHIM_H
#define CRABBIT_SHIM_H

// librabbitmq-c moved its headers under rabbitmq-c/ in 0.12; Debian 12 ships 0.11 with flat headers.
#if __has_include(<rabbitmq-c/amqp.h>)
#include <rabbitmq-c/amqp.h>
#include <rabbitmq-c/tcp_socket.h>
#include <rabbitmq-c/ssl_socket.h>
#else
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#endif

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

/// `amqp_login_with_properties` is variadic and so unavailable in Swift; this fixes PLAIN authentication and
/// sends `connection_name` so the broker's management tools show which service owns a connection.
///
/// It also asks for `consumer_cancel_notify` (librabbitmq does not): without it the broker drops a consumer whose
/// queue was deleted, or whose node of a cluster went down, without a word, and the consumer waits forever. The
/// library merges this `capabilities` table into its own.
static inline amqp_rpc_reply_t crabbit_login_plain(amqp_connection_state_t state, const char *vhost,
                                                   int channel_max, int frame_max, int heartbeat,
                                                   const char *user, const char *password,
                                                   const char *connection_name) {
    amqp_table_entry_t capability_entries[1];
    capability_entries[0].key = amqp_cstring_bytes("consumer_cancel_notify");
    capability_entries[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capability_entries[0].value.value.boolean = 1;
    amqp_table_entry_t entries[2];
    entries[0].key = amqp_cstring_bytes("connection_name");
    entries[0].value.kind = AMQP_FIELD_KIND_UTF8;
    entries[0].value.value.bytes = amqp_cstring_bytes(connection_name);
    entries[1].key = amqp_cstring_bytes("capabilities");
    entries[1].value.kind = AMQP_FIELD_KIND_TABLE;
    entries[1].value.value.table.num_entries = 1;
    entries[1].value.value.table.entries = capability_entries;
    amqp_table_t properties;
    properties.num_entries = 2;
    properties.entries = entries;
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, &properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/// A table entry holding a UTF-8 string; `key` and `value` must outlive every use of the entry.
static inline amqp_table_entry_t crabbit_entry_string(const char *key, const char *value) {
    amqp_table_entry_t entry;
    entry.key = amqp_cstring_bytes(key);
    entry.value.kind = AMQP_FIELD_KIND_UTF8;
    entry.value.value.bytes = amqp_cstring_bytes(value);
    return entry;
}

/// A table entry holding a signed 64-bit integer; `key` must outlive every use of the entry.
static inline amqp_table_entry_t crabbit_entry_int(const char *key, int64_t value) {
    amqp_table_entry_t entry;
    entry.key = amqp_cstring_bytes(key);
    entry.value.kind = AMQP_FIELD_KIND_I64;
    entry.value.value.i64 = value;
    return entry;
}

/// A table entry holding a boolean; `key` must outlive every use of the entry.
static inline amqp_table_entry_t crabbit_entry_bool(const char *key, int value) {
    amqp_table_entry_t entry;
    entry.key = amqp_cstring_bytes(key);
    entry.value.kind = AMQP_FIELD_KIND_BOOLEAN;
    entry.value.value.boolean = value ? 1 : 0;
    return entry;
}

#endif
