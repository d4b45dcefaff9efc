import { SparkSQL } from 'dt-sql-parser';

const spark = new SparkSQL();

/** Syntax errors of a statement under Spark SQL's grammar (dt-sql-parser), as readable lines; [] when it parses. */
export function sparkSyntaxErrors(sql: string): string[] {
  return spark.validate(sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
}
