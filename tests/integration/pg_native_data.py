"""A PostgreSQL database holding every built-in type, with edge values and NULLs (issue 21), and
one table per contrib extension type: the data of tests/integration/test_pg_native_types.py.

Each statement is run on its own, so a failure names the statement."""

from __future__ import annotations

# (table, key expression for ORDER BY) of BUILTIN
TABLES = {
    "t_arrays": "id", "t_net": "id", "t_money_interval_bits": "id", "t_ranges": "id",
    "t_text_search_xml": "id", "t_geometry": "id", "t_user_types": "id", "t_times": "id",
    "t_json": "id", "t_nokey": "x_row::text",
}  # fmt: skip

BUILTIN = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'it''s')",
    "CREATE DOMAIN posint AS integer NOT NULL DEFAULT 1 CHECK (VALUE > 0)",
    "CREATE TYPE pair AS (a integer, b text, m mood)",
    "CREATE SCHEMA sales",
    "CREATE TYPE sales.mood AS ENUM ('x', 'y')",
    # arrays of several element types: multidimensional, with NULLs, empty, non-default bounds
    """CREATE TABLE t_arrays (id int PRIMARY KEY, ints integer[], texts text[],
        nums numeric(10,2)[], m2 int[][], dates date[], moods mood[], uuids uuid[],
        jsons jsonb[], bools boolean[], stamps timestamptz[], ranges int4range[])""",
    """INSERT INTO t_arrays VALUES
     (1, '{1,2,NULL,-2147483648}', '{"a,b","NULL",NULL,"","\\"q\\"","{}"}', '{1.50,NULL}',
      '{{1,2},{3,NULL}}', '{2020-01-01,infinity,NULL}', '{sad,"it''s",NULL}',
      '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a":1}'::jsonb, NULL],
      '{t,f,NULL}', '{"2020-01-01 00:00+05",-infinity}', '{"[1,2)",empty,NULL}'),
     (2, '{}', '{}', NULL, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
     (4, '[0:1]={7,8}', '{"x"}', '{-99999999.99}', '{{{1}},{{2}}}', '{4713-01-01 BC}',
      '{happy}', '{}', '{}', '{}', '{}', '{}')""",
    "CREATE TABLE t_net (id int PRIMARY KEY, i inet, c cidr, m macaddr, m8 macaddr8)",
    """INSERT INTO t_net VALUES
     (1, '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05'),
     (2, '::1', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', '00:00:00:00:00:00:00:00'),
     (3, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE t_money_interval_bits (id int PRIMARY KEY, mo money, iv interval,
        iv2 interval day to second(3), b bit(5), vb varbit, vb8 bit varying(8), o oid,
        ch "char", nm name, u uuid)""",
    """INSERT INTO t_money_interval_bits VALUES
     (1, '-92233720368547758.08', '178000000 years', '-1 day +02:03:04.5', B'10101', B'',
      B'1', 4294967295, 'x', 'n', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
     (2, '92233720368547758.07', '-1 mons -2 days +03:04:05.678901', '0', B'00000',
      B'1111000011110000', B'01', 0, '', repeat('z', 63), '00000000-0000-0000-0000-000000000000'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE t_ranges (id int PRIMARY KEY, r4 int4range, r8 int8range, rn numrange,
        rts tsrange, rtz tstzrange, rd daterange, m4 int4multirange, m8 int8multirange,
        mn nummultirange, mts tsmultirange, mtz tstzmultirange, md datemultirange)""",
    """INSERT INTO t_ranges VALUES
     (1, '[1,10)', '(,)', '[1.5,2.25]', '[2020-01-01,infinity)',
      '[2020-01-01 00:00+05,2021-01-01)', 'empty', '{[1,3),[5,7)}', '{}', '{(,1.5]}',
      '{[2020-01-01,2020-02-01)}', '{[-infinity,2000-01-01 00:00+00)}',
      '{[2020-01-01,2020-01-05),[2020-02-01,)}'),
     (2, 'empty', '[-9223372036854775808,9223372036854775807)', '(,)', '(,)', 'empty',
      '[4713-01-01 BC,5874897-12-30]', '{}', '{[1,2)}', '{}', '{}', '{}', '{}'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    "CREATE TABLE t_text_search_xml (id int PRIMARY KEY, v tsvector, q tsquery, x xml)",
    """INSERT INTO t_text_search_xml VALUES
     (1, 'a fat cat:1A,2B sat''s', 'fat & (rat | !cat) <-> sat', '<a b="1">t<!-- c --></a>'),
     (2, '', '', 'just text content'),
     (3, NULL, NULL, NULL)""",
    """CREATE TABLE t_geometry (id int PRIMARY KEY, p point, l line, s lseg, b box, pa path,
        po polygon, c circle)""",
    """INSERT INTO t_geometry VALUES
     (1, '(1.5,-2.25)', '{1,-1,0}', '[(0,0),(1,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]',
      '((0,0),(1,1),(2,0))', '<(0,0),1.5>'),
     (2, '(1e300,-1e-300)', '{0,1,-5}', '[(0,0),(0,0)]', '(0,0),(0,0)', '((0,0),(1,1))',
      '((0,0))', '<(1,1),0>'),
     (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    """CREATE TABLE t_user_types (id int PRIMARY KEY, m mood, sm sales.mood, d posint,
        p pair, ps pair[])""",
    """INSERT INTO t_user_types VALUES
     (1, 'it''s', 'y', 2147483647, ROW(1, 'a "b", c', 'ok'),
      ARRAY[ROW(1, 'x', 'sad')::pair, NULL, ROW(NULL, NULL, NULL)::pair]),
     (2, 'sad', 'x', 1, ROW(NULL, '', NULL), '{}'),
     (3, NULL, NULL, 5, NULL, NULL)""",
    """CREATE TABLE t_times (id int PRIMARY KEY, d date, ts timestamp, tstz timestamptz,
        ts3 timestamp(3), t time, t0 time(0), tz timetz, tz2 time(2) with time zone)""",
    """INSERT INTO t_times VALUES
     (1, 'infinity', 'infinity', 'infinity', '-infinity', '24:00:00', '24:00:00',
      '24:00:00+15:59', '00:00:00.01-15:59'),
     (2, '-infinity', '-infinity', '-infinity', '4713-01-01 00:00:00 BC', '00:00:00',
      '23:59:59', '12:00:00+05', '12:00:00.5+05:30'),
     (3, '4713-01-01 BC', '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC',
      '294276-12-31 23:59:59.999', '23:59:59.999999', '12:34:56', '00:00:00-00',
      '23:59:59.99+00'),
     (4, '5874897-12-31', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00',
      '10000-01-01', NULL, NULL, NULL, NULL),
     (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)""",
    "CREATE TABLE t_json (id int PRIMARY KEY, j json, jb jsonb, c text)",
    """INSERT INTO t_json VALUES
     (1, '{"k":1,"k":2}', '{"k":1,"k":2}', 'duplicate keys'),
     (2, E'{ "b" : [1, 2.50,  3e2 ] ,\\n  "a":null }', E'{ "b" : [1, 2.50, 3e2], "a":null }',
      'whitespace and key order'),
     (3, 'null', 'null', 'json null'),
     (4, NULL, NULL, 'sql null'),
     (5, '"\\u00e9\\ud83d\\ude00"', '"\\u00e9\\ud83d\\ude00"', 'escapes'),
     (6, '[]', '{}', 'empty')""",
    "CREATE TABLE t_nokey (a int[], b interval)",  # no key: copied whole, duplicates kept
    "INSERT INTO t_nokey VALUES ('{1}', '1 day'), ('{1}', '1 day'), (NULL, NULL)",
]

# extension -> statements making one table "t_<extension>" (key id) using its types
EXTENSIONS = {
    "hstore": [
        "CREATE TABLE t_hstore (id int PRIMARY KEY, h hstore, hs hstore[])",
        """INSERT INTO t_hstore VALUES
         (1, 'a=>1, "b c"=>NULL, "q\\"x"=>"y"', ARRAY['a=>1'::hstore, NULL]),
         (2, '', '{}'), (3, NULL, NULL)""",
    ],
    "ltree": [
        "CREATE TABLE t_ltree (id int PRIMARY KEY, l ltree, q lquery, ls ltree[])",
        """INSERT INTO t_ltree VALUES (1, 'Top.Science.Astronomy', '*.Astronomy.*',
            '{a.b,c}'), (2, '', '*', '{}'), (3, NULL, NULL, NULL)""",
    ],
    "citext": [
        "CREATE TABLE t_citext (id int PRIMARY KEY, c citext, ca citext[])",
        """INSERT INTO t_citext VALUES (1, 'MiXeD Case ', '{Ab,aB}'), (2, '', '{}'),
            (3, NULL, NULL)""",
    ],
    "isn": [  # isn's types have no binary form: the text COPY path is the only one
        "CREATE TABLE t_isn (id int PRIMARY KEY, i isbn13, e ean13, u upc)",
        """INSERT INTO t_isn VALUES (1, '978-0-306-40615-7', '0036000291452', '036000291452'),
            (2, NULL, NULL, NULL)""",
    ],
}
