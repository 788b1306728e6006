"""A MariaDB database holding every type MariaDB 10.11 documents, with edge values (each end of
the range, special values, NULL, empty): the data of tests/integration/test_mariadb_native_types.py.

Each statement runs on its own (so a failure names it), in a session allowing zero dates."""

from __future__ import annotations

# table -> key expression for ORDER BY
TABLES = {
    "t_ints": "id", "t_decimals": "id", "t_bits": "id", "t_sets": "id", "t_geometry": "id",
    "t_json": "id", "t_times": "id", "t_texts": "id", "t_binaries": "id", "t_new_types": "id",
    "t_serial": "id", "t_nokey": "a, b",
}  # fmt: skip

_BIG = "99999999999999999999999999999999999.999999999999999999999999999999"
_ALL_BYTES = "0x" + "".join(f"{i:02X}" for i in range(256))

DATA = [
    """CREATE TABLE t_ints (id int PRIMARY KEY, ti tinyint, tiu tinyint unsigned, b1 tinyint(1),
        si smallint, siu smallint unsigned, mi mediumint, miu mediumint unsigned, i int,
        iu int unsigned, bi bigint, biu bigint unsigned, z int(5) zerofill)""",
    """INSERT INTO t_ints VALUES
     (1, -128, 0, -128, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, 0),
     (2, 127, 255, 5, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
      9223372036854775807, 18446744073709551615, 4294967295),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE t_decimals (id int PRIMARY KEY, d decimal(65,30), d0 decimal(65,0),
        d2 decimal(5,2), du decimal(10,4) unsigned, f float, f53 float(53), dbl double,
        r real)""",
    f"""INSERT INTO t_decimals VALUES
     (1, {_BIG}, 99999999999999999999999999999999999999999999999999999999999999999, 999.99,
      0, 3.402823466e38, 1.7976931348623157e308, 1.7976931348623157e308, 5e-324),
     (2, -{_BIG}, -1, -999.99, 999999.9999, -1.175494351e-38, 4.9e-324, 0.1e0 + 0.2e0,
      -2.2250738585072014e-308),
     (3, 0.000000000000000000000000000001, 0, 0, 0.0001, 16777217e0, 0.1e0, 0e0, 1e0),
     (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    "CREATE TABLE t_bits (id int PRIMARY KEY, b1 bit(1), b5 bit(5), b64 bit(64), b8 bit(8))",
    """INSERT INTO t_bits VALUES
     (1, b'0', b'00000', b'0', b'00001010'),
     (2, b'1', b'11111', 0xFFFFFFFFFFFFFFFF, b'00100010'),
     (3, b'1', b'10101', 0x8000000000000000, b'01011100'),
     (4, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE t_sets (id int PRIMARY KEY, s set('a','b','c d'), s64 set('1','2','3','4','5',
        '6','7','8','9','10','11','12','13','14','15','16','17','18','19','20','21','22','23',
        '24','25','26','27','28','29','30','31','32','33','34','35','36','37','38','39','40',
        '41','42','43','44','45','46','47','48','49','50','51','52','53','54','55','56','57',
        '58','59','60','61','62','63','64'), e enum('x','y z','it''s',''),
        el enum('b','a') CHARACTER SET latin1 COLLATE latin1_bin)""",
    """INSERT INTO t_sets VALUES
     (1, '', '', 'x', 'b'), (2, 'a,b', '1,64', 'it''s', 'a'), (3, 'c d', '64', '', NULL),
     (4, NULL, NULL, NULL, NULL),
     (5, 'a,b', CONCAT_WS(',', '1','2','3','4','5','6','7','8','9','10','11','12','13','14','15',
        '16','17','18','19','20','21','22','23','24','25','26','27','28','29','30','31','32',
        '33','34','35','36','37','38','39','40','41','42','43','44','45','46','47','48','49',
        '50','51','52','53','54','55','56','57','58','59','60','61','62','63','64'),
      'y z', 'a')""",
    """CREATE TABLE t_geometry (id int PRIMARY KEY, g geometry, p point REF_SYSTEM_ID=4326,
        l linestring, pg polygon, mp multipoint, ml multilinestring, mpg multipolygon,
        gc geometrycollection)""",
    """INSERT INTO t_geometry VALUES
     (1, ST_GeomFromText('POINT(1.5 -2.25)'), ST_GeomFromText('POINT(-180 90)', 4326),
      ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
      ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))'),
      ST_GeomFromText('MULTIPOINT(0 0, 1e300 -1e-300)'),
      ST_GeomFromText('MULTILINESTRING((0 0, 1 1), (2 2, 3 3))'),
      ST_GeomFromText('MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))', 3857),
      ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')),
     (2, ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))', 4326), ST_GeomFromText('POINT(0 0)'),
      NULL, NULL, NULL, NULL, NULL, ST_GeomFromText('GEOMETRYCOLLECTION EMPTY')),
     (3, ST_GeomFromText('GEOMETRYCOLLECTION(MULTIPOINT(1 1, 2 2))', 2154), NULL, NULL, NULL,
      NULL, NULL, NULL, NULL)""",
    "CREATE TABLE t_json (id int PRIMARY KEY, j json, note varchar(40))",
    """INSERT INTO t_json VALUES
     (1, '{"k":1,"k":2}', 'duplicate keys'), (2, '  [1, 2.50, {"b":1,"a":2}]  ', 'spaces'),
     (3, 'null', 'JSON null'), (4, NULL, 'SQL NULL'), (5, '""', 'empty string'),
     (6, '{"é":"\\\\u00e9 😀"}', 'unicode and escapes'), (7, '1e400', 'a huge number')""",
    """CREATE TABLE t_times (id int PRIMARY KEY, y year, d date, dt datetime, dt6 datetime(6),
        ts timestamp(6) NULL, ts0 timestamp NULL, t time, t6 time(6), t3 time(3))""",
    """INSERT INTO t_times VALUES
     (1, 1901, '1000-01-01', '1000-01-01 00:00:00', '1000-01-01 00:00:00.000000',
      '1970-01-01 00:00:01.000000', '1970-01-01 00:00:01', '-838:59:59',
      '-838:59:59.999999', '-00:00:00.001'),
     (2, 2155, '9999-12-31', '9999-12-31 23:59:59', '9999-12-31 23:59:59.999999',
      '2038-01-19 03:14:07.999999', '2038-01-19 03:14:07', '838:59:59', '838:59:59.999999',
      '100:00:00.5'),
     (3, 0, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000',
      '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', '-00:00:00.000001',
      '24:00:00'),
     (4, NULL, '2020-00-15', '2020-01-00 10:00:00', '0001-01-01 00:00:00.000001', NULL, NULL,
      NULL, NULL, NULL),
     (5, 2000, '0001-01-01', NULL, '2021-03-28 01:30:00.5', '2021-10-31 01:30:00.25', NULL,
      NULL, NULL, NULL)""",
    """CREATE TABLE t_texts (id int PRIMARY KEY, c char(5) CHARACTER SET latin1
        COLLATE latin1_german1_ci, cu char(10), v varchar(20) COLLATE utf8mb4_unicode_ci,
        va varchar(300) CHARACTER SET ascii, tt tinytext, t text, mt mediumtext, lt longtext,
        u2 varchar(10) CHARACTER SET utf16)""",
    """INSERT INTO t_texts VALUES
     (1, 'é ', '😀 a', 'x  ', REPEAT('z', 300), REPEAT('y', 255), '', 'line\\nbreak\\ttab',
      CONCAT('nul', CHAR(0), 'byte'), '𝄞'),
     (2, '', '', '', '', '', 'quote '' and \\\\ backslash', 'Ω', '', ''),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, 'ÿ', '   ', 'NULL', '\\\\N', 'a,b', '"quoted"', REPEAT('€', 1000), '😀', 'ä')""",
    """CREATE TABLE t_binaries (id int PRIMARY KEY, b binary(4), vb varbinary(300),
        tb tinyblob, bl blob, mb mediumblob, lb longblob)""",
    f"""INSERT INTO t_binaries VALUES
     (1, 'a', {_ALL_BYTES}, REPEAT(0xFF, 255), 0x00, 0x0A0D5C27, {_ALL_BYTES}),
     (2, 0x00000000, '', '', '', '', ''),
     (3, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, 0xFFFFFFFF, 0x00, 0x2C22, 0x5C4E, 0x0D0A, 0x00FF00)""",
    """CREATE TABLE t_new_types (id int PRIMARY KEY, i4 inet4, i6 inet6, u uuid)""",
    """INSERT INTO t_new_types VALUES
     (1, '0.0.0.0', '::', '00000000-0000-0000-0000-000000000000'),
     (2, '255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'ffffffff-ffff-ffff-ffff-ffffffffffff'),
     (3, '10.0.0.1', '::ffff:1.2.3.4', '123e4567-e89b-12d3-a456-426655440000'),
     (4, NULL, NULL, NULL)""",
    "CREATE TABLE t_serial (id SERIAL PRIMARY KEY, v varchar(5))",
    "INSERT INTO t_serial VALUES (1, 'a'), (18446744073709551614, 'b')",
    "CREATE TABLE t_nokey (a int, b varchar(5))",
    "INSERT INTO t_nokey VALUES (1, 'x'), (1, 'x'), (NULL, NULL), (2, '')",
]
