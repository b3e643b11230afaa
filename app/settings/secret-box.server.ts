// The secret box lives beside the database layer, which seals personal data and tokens with it
// (app/database/sealed-values.server.ts); settings keep importing it from here.
export * from "../database/secret-box.server";
