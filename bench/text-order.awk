# text-order.awk - which archive members (and our own objects) the roles of the static
# woodctl really run, in the order src/static/hot.ld lays them out. Driven by
# bench/text-order.sh; the inputs, in this order of files:
#   1. the static link's map (ld -Map): the address, size and member of each input section
#   2. `nm -n --defined-only` of the same binary: the member of each function
#   3. callgrind outputs (one per process): the functions each role executed
#   4. files of "PID ADDRESS" lines from perf page-fault samples of native runs (faults
#      in code only): what valgrind cannot show (the CPU-specific variants picked at run time, e.g. glibc's
#      AVX-512 string functions or OpenSSL's assembly, which valgrind's CPU lacks)
# Output: "USERS<TAB>MEMBER" where USERS is how many roles (callgrind) or processes (perf,
# at most 11) used the member; members are named "libc.a:malloc.o" or "obj/src/log.o".

function hex(s,   i, v) {
	sub(/^0x/, "", s)
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}

# "/usr/lib/.../libc.a(malloc.o)" -> "libc.a:malloc.o", "build/obj/src/log.o" -> "obj/src/log.o"
function member(path,   m) {
	if (match(path, /[^\/]+\.a\(/)) {
		m = substr(path, RSTART, RLENGTH - 1) ":" substr(path, RSTART + RLENGTH)
		sub(/\)$/, "", m)
		return m
	}
	sub(/^.*\/obj\//, "obj/", path)
	sub(/^.*\//, "", path)
	return path
}

function add_section(name, addr, size, file) {
	if (size == 0 || addr == 0 || name !~ /^\.(text|rodata)/)
		return
	ns++
	sa[ns] = addr
	sz[ns] = size
	sm[ns] = member(file)
	st[ns] = name ~ /^\.text/
}

# the input section holding ADDR, or 0
function section_of(a,   lo, hi, mid) {
	lo = 1
	hi = ns
	while (lo < hi) {
		mid = int((lo + hi + 1) / 2)
		if (sa[mid] <= a)
			lo = mid
		else
			hi = mid - 1
	}
	return (ns && sa[lo] <= a && a < sa[lo] + sz[lo]) ? lo : 0
}

function use(m, who) {
	if ((m, who) in used)
		return
	used[m, who] = 1
	users[m]++
}

FNR == 1 {
	part++
	if (part == 2)
		sort_sections()
}

# ld prints " .name  0xADDR  0xSIZE  file", or the name alone when it is long and the rest
# on the next line.
part == 1 && /^ \.[^ \t]+[ \t]+0x[0-9a-f]+[ \t]+0x[0-9a-f]+[ \t]+[^ \t]+$/ {
	add_section($1, hex($2), hex($3), $4)
	next
}
part == 1 && /^ \.[^ \t]+$/ {
	pending = $1
	next
}
part == 1 && pending != "" {
	if (NF == 3 && $1 ~ /^0x/)
		add_section(pending, hex($1), hex($2), $3)
	pending = ""
	next
}

part == 2 && $2 ~ /^[tTWi]$/ {
	s = section_of(hex($1))
	if (s && !(($3, sm[s]) in fn_member)) {
		fn_member[$3, sm[s]] = 1
		fn_members[$3] = fn_members[$3] " " sm[s]
	}
	next
}

part >= 3 && /^cmd:/ {
	role = $3
	if (role == "" || role ~ /^http/)
		role = "probe"
	next
}
part >= 3 && /^c?fn=\([0-9]+\) / {
	name = $0
	sub(/^c?fn=\([0-9]+\) /, "", name)
	sub(/'[0-9]+$/, "", name)
	n = split(fn_members[name], ms, " ")
	for (i = 1; i <= n; i++)
		use(ms[i], role)
	next
}
part >= 3 && /^[0-9]+ [0-9a-f]+$/ {
	s = section_of(hex($2))
	# Code faults only: the merged string sections of .rodata do not keep their members.
	if (s && st[s] && perf_pids[sm[s]] < 11 && !((sm[s], "pid" $1) in used)) {
		perf_pids[sm[s]]++
		use(sm[s], "pid" $1)
	}
	next
}

END {
	for (m in users)
		printf "%d\t%s\n", (users[m] > 11 ? 11 : users[m]), m
}

# insertion sort would be slow for ~15k sections: a heap sort on the start addresses
function sort_sections(   i, n, t) {
	for (i = int(ns / 2); i >= 1; i--)
		sift(i, ns)
	for (n = ns; n > 1; n--) {
		swap(1, n)
		sift(1, n - 1)
	}
}
function sift(i, n,   c) {
	while ((c = 2 * i) <= n) {
		if (c < n && sa[c + 1] > sa[c])
			c++
		if (sa[i] >= sa[c])
			return
		swap(i, c)
		i = c
	}
}
function swap(i, j,   t) {
	t = sa[i]; sa[i] = sa[j]; sa[j] = t
	t = sz[i]; sz[i] = sz[j]; sz[j] = t
	t = sm[i]; sm[i] = sm[j]; sm[j] = t
	t = st[i]; st[i] = st[j]; st[j] = t
}
