/* test_wood.c - the business model: strict validation, the seed's wire and log forms. */
#include "unit.h"
#include "woodctl/wood.h"

static int parse(const char *text, struct wood_item *it, char *err)
{
	return wood_item_parse(text, strlen(text), it, err, 200);
}

TEST(wood_enums_round_trip)
{
	enum wood_type t;
	enum wood_status s;
	for (int i = 0; i < WOOD_TYPES; i++) {
		EXPECT_INT(wood_type_parse(wood_type_wire((enum wood_type)i), &t), 0);
		EXPECT_INT(t, i);
		EXPECT_INT(wood_type_parse(wood_type_label((enum wood_type)i), &t), 0);
		EXPECT_INT(t, i);
	}
	for (int i = 0; i < WOOD_STATUSES; i++) {
		EXPECT_INT(wood_status_parse(wood_status_wire((enum wood_status)i), &s), 0);
		EXPECT_INT(s, i);
	}
	EXPECT_STR(wood_type_wire(WOOD_BIRCH), "birch");
	EXPECT_STR(wood_status_label(WOOD_REGISTERED), "REGISTERED");
	EXPECT_INT(wood_type_parse("Oak", &t), WD_EINVAL);
	EXPECT_INT(wood_type_parse("teak", &t), WD_EINVAL);
	EXPECT_INT(wood_type_parse("", &t), WD_EINVAL);
	EXPECT_INT(wood_type_parse(NULL, &t), WD_EINVAL);
	EXPECT_INT(wood_status_parse("done", &s), WD_EINVAL);
}

TEST(wood_item_valid)
{
	struct wood_item it;
	char err[200] = "";
	EXPECT_INT(parse("{\"wood_type\": \"oak\", \"quantity\": 42}", &it, err), 0);
	EXPECT_INT(it.type, WOOD_OAK);
	EXPECT_INT(it.quantity, 42);
	EXPECT_INT(parse("{\"quantity\":1000000,\"wood_type\":\"pine\",\"extra\":[1]}", &it, err),
	           0);
	EXPECT_INT(it.type, WOOD_PINE);
	EXPECT_INT(it.quantity, 1000000);
}

TEST(wood_item_invalid_names_the_field)
{
	struct {
		const char *text, *err;
	} bad[] = {
	    {"", "malformed JSON"},
	    {"{\"wood_type\": \"oak\", ", "malformed JSON"},
	    {"null", "must be a JSON object"},
	    {"[]", "must be a JSON object"},
	    {"\"oak\"", "must be a JSON object"},
	    {"{}", "missing field 'wood_type'"},
	    {"{\"wood_type\": \"oak\"}", "missing field 'quantity'"},
	    {"{\"quantity\": 5}", "missing field 'wood_type'"},
	    {"{\"wood_type\": \"teak\", \"quantity\": 5}", "wood_type must be one of"},
	    {"{\"wood_type\": \"OAK\", \"quantity\": 5}", "wood_type must be one of"},
	    {"{\"wood_type\": 3, \"quantity\": 5}", "wood_type must be one of"},
	    {"{\"wood_type\": \"oak'; DROP TABLE orders;--\", \"quantity\": 5}", "wood_type"},
	    {"{\"wood_type\": \"oak\\u0000\", \"quantity\": 5}", "malformed JSON"},
	    {"{\"wood_type\": \"oak\", \"quantity\": 0}", "between 1 and 1000000"},
	    {"{\"wood_type\": \"oak\", \"quantity\": -3}", "between 1 and 1000000"},
	    {"{\"wood_type\": \"oak\", \"quantity\": 1000001}", "between 1 and 1000000"},
	    {"{\"wood_type\": \"oak\", \"quantity\": 5.0}", "quantity must be an integer"},
	    {"{\"wood_type\": \"oak\", \"quantity\": 5.5}", "quantity must be an integer"},
	    {"{\"wood_type\": \"oak\", \"quantity\": \"5\"}", "quantity must be an integer"},
	    {"{\"wood_type\": \"oak\", \"quantity\": 99999999999999999999}", "malformed JSON"},
	    {"{\"wood_type\": \"oak\", \"quantity\": true}", "quantity must be an integer"},
	    {"{\"wood_type\": \"oak\", \"wood_type\": \"elm\", \"quantity\": 1}", "malformed"},
	    {"{\"wood_type\": \"\xff\", \"quantity\": 1}", "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct wood_item it;
		char err[200] = "";
		if (parse(bad[i].text, &it, err) != WD_EINVAL)
			unit_fail(__FILE__, __LINE__, "accepted: %s", bad[i].text);
		EXPECT_CONTAINS(err, bad[i].err);
	}
	char big[WOOD_MESSAGE_MAX + 64];
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"wood_type\": \"oak\", \"quantity\": 1}", 35);
	struct wood_item it;
	char err[200];
	EXPECT_INT(wood_item_parse(big, sizeof(big), &it, err, sizeof(err)), WD_EINVAL);
	EXPECT_CONTAINS(err, "over the 4096-byte limit");
}

TEST(wood_item_forms)
{
	struct wood_item it = {WOOD_OAK, 42};
	struct wd_buf b = WD_BUF_INIT;
	wood_item_json(&it, &b);
	EXPECT_STR(b.ptr, "{\"wood_type\": \"oak\", \"quantity\": 42}");
	wd_buf_reset(&b);
	wood_item_repr(&it, false, &b);
	EXPECT_STR(b.ptr, "{'wood_type': 'oak', 'quantity': 42}");
	wd_buf_reset(&b);
	wood_item_repr(&it, true, &b);
	EXPECT_STR(b.ptr, "{'wood_type': <WoodType.OAK: 'oak'>, 'quantity': 42}");
	wd_buf_release(&b);
	char key[64];
	wood_idempotency_key("orders", 3, 1234567890123LL, key, sizeof(key));
	EXPECT_STR(key, "orders-3-1234567890123");
}

TEST(wood_random_items_and_draws)
{
	int seen[WOOD_TYPES] = {0};
	int64_t qmin = 1000, qmax = 0;
	for (int i = 0; i < 20000; i++) {
		struct wood_item it;
		wood_item_random(&it);
		ASSERT_TRUE((unsigned)it.type < WOOD_TYPES);
		seen[it.type]++;
		qmin = it.quantity < qmin ? it.quantity : qmin;
		qmax = it.quantity > qmax ? it.quantity : qmax;
	}
	for (int i = 0; i < WOOD_TYPES; i++)
		EXPECT_TRUE(seen[i] > 3000 && seen[i] < 5000);
	EXPECT_INT(qmin, 1);
	EXPECT_INT(qmax, 100);
	int fails = 0;
	for (int i = 0; i < 20000; i++)
		fails += wood_draw_failure(0.3);
	EXPECT_TRUE(fails > 5400 && fails < 6600);
	for (int i = 0; i < 1000; i++) {
		EXPECT_TRUE(!wood_draw_failure(0));
		EXPECT_TRUE(wood_draw_failure(1));
	}
}
