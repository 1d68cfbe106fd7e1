# woodctl - one executable, every role. See README.md ("Build") for the targets.
#
#   make              development build: build/woodctl (+ build/bin/<role> links)
#   make static       fully static build: build/static/woodctl
#   make test         unit tests and the script suites (SAN=1: with ASan + UBSan;
#                     T=substring: only the cases whose name contains it)
#   make check        what CI runs: deps, test, test SAN=1, static + empty-root and image tests
#   make deps         installs missing Debian packages and fetches build-time sources
#   make lint         clang-format check and the layer check (tests/lib/layers.sh)
#   make run          installs, builds and runs the system from one shell

VERSION := 0.1.0
SHELL := /bin/bash

CC ?= cc
SAN ?=
V ?=
Q := $(if $(V),,@)

# Flavours build into their own folder so they never mix objects.
ifeq ($(SAN),1)
  B := build/san
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  B := build
  SANFLAGS :=
endif
TP := build/third_party
GEN := build/gen

CIVETWEB_DIR := $(TP)/civetweb
PGDEV_LIB = $(firstword $(wildcard $(TP)/pgdev/usr/lib/postgresql/*/lib))

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes -Werror
CPPFLAGS := -Iinclude -Itests/unit -I$(GEN) -I$(CIVETWEB_DIR)/include -I/usr/include/postgresql -I/usr/include/mit-krb5 -I/usr/include/p11-kit-1 \
	-D_GNU_SOURCE -DWD_SRCDIR='"$(CURDIR)"'
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -pthread -MMD -MP $(WARN) $(SANFLAGS)
# SOCKET_TIMEOUT_QUANTUM: how often (ms) civetweb's threads look at its stop flag; the
# default 2000 makes every server stop take up to 2 s.
CIVETWEB_FLAGS := -DUSE_WEBSOCKET -DUSE_IPV6 -DOPENSSL_API_3_0 -DNO_SSL_DL -DNO_CGI \
	-DSOCKET_TIMEOUT_QUANTUM=200 \
	-DNO_FILES -w

DYN_LIBS := -lrdkafka -lpq -ljansson -lcurl -lprotobuf-c -lssl -lcrypto -lz -lm -lpthread -ldl
STATIC_LIBS = -L$(PGDEV_LIB) -Wl,--start-group -lrdkafka -llz4 -ljansson -lcurl -lnghttp2 \
	-lrtmp -lgnutls -lhogweed -lnettle -lgmp -ltasn1 -lssh2 -lpsl -lidn2 -lunistring -lldap \
	-llber -lsasl2 -lsqlite3 -ldb -lmariadb -lpq -lpgcommon_shlib -lpgport_shlib -lssl \
	-lcrypto -lzstd -lbrotlidec -lbrotlicommon -lz -lprotobuf-c -Wl,--end-group \
	-lm -ldl -lpthread -lrt -lresolv

ROLES := $(sort $(notdir $(wildcard roles/*)))
ROLE_ALIASES := agent-ui

PROTOS := $(shell find proto -name '*.proto' 2>/dev/null | sort)
PROTO_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
PROTO_H := $(PROTO_C:.c=.h)

CORE_SRC := $(filter-out src/base/main.c src/base/version.c,$(wildcard src/*/*.c))
CORE_SRC := $(filter-out src/static/%,$(CORE_SRC))
ROLE_SRC := $(wildcard roles/*/*.c)
LIB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(CORE_SRC) $(ROLE_SRC)) \
	$(patsubst $(GEN)/%.c,$(B)/obj/gen/%.o,$(PROTO_C) $(GEN)/role_about.c) \
	$(B)/obj/civetweb.o
MAIN_OBJ := $(B)/obj/src/base/main.o $(B)/obj/src/base/version.o
STUB_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(wildcard src/static/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(patsubst %.c,$(B)/obj/%.o,$(UNIT_SRC)) $(B)/obj/src/base/version.o
# Programs the script suites drive (tests/<suite>/<name>.c => $(B)/tests/<name>).
TEST_PROGS := $(B)/tests/db-driver
# Small programs that link the cores: test drivers (tests/otel, tests/kafka) and benchmarks.
PROG_SRC := $(wildcard tests/otel/*.c tests/kafka/*.c bench/*.c)
PROG_BIN := $(patsubst %.c,$(B)/%,$(PROG_SRC))

GIT_COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
GIT_DIRTY := $(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
BUILD_DATE := $(shell date -u -d @$${SOURCE_DATE_EPOCH:-$$(date +%s)} +%Y-%m-%dT%H:%M:%SZ)

.PHONY: all static test check deps lint format run clean links progs FORCE
.DEFAULT_GOAL := all

all: $(B)/woodctl links

$(B)/woodctl: $(MAIN_OBJ) $(LIB_OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

links: $(B)/woodctl
	$(Q)mkdir -p $(B)/bin
	$(Q)for r in $(ROLES) $(ROLE_ALIASES); do ln -sfn ../woodctl $(B)/bin/$$r; done

static: build/static/woodctl

# The static binary links every object of the development flavour plus the stubs for
# the two libraries Debian ships without static archives and GnuTLS's start-up hook (see
# README, "Static build").
# src/static/hot.ld packs the code the roles run (bench/text-order.sh regenerates it); the
# link map it is made from is kept next to the binary.
build/static/woodctl: $(MAIN_OBJ) $(LIB_OBJ) $(STUB_OBJ) src/static/hot.ld | $(TP)/pgdev.stamp
	@echo "  LINK    $@ (static)"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -static -o $@ $(filter %.o,$^) $(STATIC_LIBS) -Wl,-T,src/static/hot.ld \
		-Wl,-Map,$@.map 2> $@.link.log || { cat $@.link.log; exit 1; }
	$(Q)strip -o $@.stripped $@
	@file $@ | sed 's/^/  /'

$(B)/unit-tests: $(UNIT_OBJ) $(LIB_OBJ)
	@echo "  LINK    $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

$(B)/tests/db-driver: $(B)/obj/tests/db/db-driver.o $(LIB_OBJ) $(B)/obj/src/base/version.o
	@echo "  LINK    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

progs: $(PROG_BIN)

$(B)/tests/otel/%: $(B)/obj/tests/otel/%.o $(LIB_OBJ) $(B)/obj/src/base/version.o
	@echo "  LINK    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

$(B)/tests/kafka/%: $(B)/obj/tests/kafka/%.o $(LIB_OBJ) $(B)/obj/src/base/version.o
	@echo "  LINK    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

$(B)/bench/%: $(B)/obj/bench/%.o $(LIB_OBJ) $(B)/obj/src/base/version.o
	@echo "  LINK    $@"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DYN_LIBS)

test: $(B)/woodctl links $(B)/unit-tests $(TEST_PROGS) $(PROG_BIN)
	$(Q)WOODCTL=$(CURDIR)/$(B)/woodctl UNIT=$(CURDIR)/$(B)/unit-tests SAN=$(SAN) \
		tests/run.sh $(T)

# CI: everything, in one command (the README's test command).
check: deps
	$(Q)$(MAKE) --no-print-directory lint
	$(Q)$(MAKE) --no-print-directory test
	$(Q)$(MAKE) --no-print-directory test SAN=1
	$(Q)$(MAKE) --no-print-directory static
	$(Q)WOODCTL=$(CURDIR)/build/static/woodctl tests/static/empty-root.sh
	$(Q)WOODCTL=$(CURDIR)/build/static/woodctl.stripped tests/static/image-rootfs.sh

deps:
	$(Q)deploy/deps.sh all

# The whole system from this shell: broker, PostgreSQL, telemetry sink, the seven roles.
# UP_ARGS passes options, e.g. make run UP_ARGS="--interval 0.5 --error-rate 0".
run: deps all
	$(Q)$(B)/woodctl up $(UP_ARGS)

# Every C file of the tree, for the format check.
LINT_SRC = $(shell find src roles tests bench include -name '*.[ch]' -not -path '*/node_modules/*' | sort)

lint:
	$(Q)clang-format --dry-run --Werror $(LINT_SRC)
	$(Q)tests/lib/layers.sh

format:
	$(Q)clang-format -i $(LINT_SRC)

clean:
	rm -rf build/san build/obj build/gen build/static build/bin build/woodctl build/unit-tests \
		build/tests build/bench

# ---- compilation ----

# Cores include civetweb.h, which a fresh tree has only once deps.sh fetched its source.
$(B)/obj/%.o: %.c | $(PROTO_H) $(TP)/civetweb.stamp
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/obj/gen/%.o: $(GEN)/%.c | $(PROTO_H)
	@echo "  CC      $<"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(filter-out -Werror -Wshadow,$(CFLAGS)) -c -o $@ $<

$(B)/obj/src/base/version.o: src/base/version.c FORCE
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DWD_VERSION='"$(VERSION)"' \
		-DWD_GIT_COMMIT='"$(GIT_COMMIT)$(GIT_DIRTY)"' -DWD_BUILD_DATE='"$(BUILD_DATE)"' \
		-c -o $@ $<

$(B)/obj/civetweb.o: $(TP)/civetweb.stamp Makefile
	@echo "  CC      civetweb.c (Debian source package)"
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -pthread $(SANFLAGS) -I$(CIVETWEB_DIR)/include $(CIVETWEB_FLAGS) \
		-c -o $@ $(CIVETWEB_DIR)/src/civetweb.c

$(TP)/civetweb.stamp $(TP)/pgdev.stamp:
	$(Q)deploy/deps.sh sources

$(CIVETWEB_DIR)/include/civetweb.h: $(TP)/civetweb.stamp

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto
	@echo "  PROTOC  $<"
	$(Q)mkdir -p $(GEN)
	$(Q)protoc-c --c_out=$(GEN) -Iproto $<

# What `woodctl help ROLE` prints: each role file's header comment.
$(GEN)/role_about.c: $(ROLE_SRC) src/base/gen-role-about.awk
	$(Q)mkdir -p $(@D)
	$(Q)awk -f src/base/gen-role-about.awk $(foreach r,$(ROLES),roles/$(r)/$(r).c) > $@

FORCE:

# Generated files are kept, never treated as intermediate.
.SECONDARY:

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
