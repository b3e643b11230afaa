import { Prisma } from "@prisma/client";

/**
 * Whether a write failed because a row with the same unique key exists: the app's inserts use the
 * unique keys to make a repeated webhook or a race between two writers harmless, and each treats
 * this error as "already recorded".
 */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
}
