/**
 * The legacy-import Store contract (tests/store_legacy_contract.ts) on SQLite
 * and on MariaDB (`CAUSERIE_TEST_MYSQL_URL`; skipped without it).
 *
 * @module
 */

import { openSqliteStore } from "../store/sqlite.ts";
import { MYSQL_SKIPPED, openFreshMysqlStore } from "./mysql_fixture.ts";
import { storeLegacyContract } from "./store_legacy_contract.ts";

storeLegacyContract("sqlite", () => openSqliteStore(":memory:"));
storeLegacyContract("mysql", openFreshMysqlStore, { ignore: MYSQL_SKIPPED });
