import { adminGraphqlData, AdminGraphqlError, type AdminGraphql } from "./admin-graphql.server";

/** The app embed's handle: the file name of extensions/refersion-tracking/blocks/refersion-tracking.liquid. */
export const EMBED_BLOCK_HANDLE = "refersion-tracking";

/**
 * enabled: the live theme has the embed switched on; disabled: it was added, then switched off;
 * not_added: the merchant never switched it on in this theme; unknown: we could not tell.
 */
export type ThemeEmbedState = "enabled" | "disabled" | "not_added" | "unknown";

export interface ThemeEmbedStatus {
  state: ThemeEmbedState;
  themeName: string | null;
  /** Why the state is unknown, in words a merchant understands. */
  problem: string | null;
}

/**
 * The theme editor with the app embed switched on, ready for the merchant to save. `activateAppId`
 * is the app's API key (client id) and the block handle.
 */
export function themeEditorEmbedUrl(shop: string, apiKey: string, blockHandle = EMBED_BLOCK_HANDLE): string {
  // Written out rather than built with URLSearchParams, which would encode the "/" Shopify documents.
  const activateAppId = `${encodeURIComponent(apiKey)}/${encodeURIComponent(blockHandle)}`;
  return `https://${shop}/admin/themes/current/editor?context=apps&template=index&activateAppId=${activateAppId}`;
}

/**
 * Parses a theme's config/settings_data.json. Shopify writes a block comment above the JSON
 * ("IMPORTANT: The contents of this file are auto-generated..."), which JSON.parse refuses.
 */
export function parseSettingsData(content: string): unknown {
  let text = content.replace(/^\uFEFF/, "");
  for (;;) {
    const trimmed = text.trimStart();
    if (trimmed.startsWith("/*")) {
      const end = trimmed.indexOf("*/");
      if (end === -1) throw new SyntaxError("Unterminated comment in settings_data.json");
      text = trimmed.slice(end + 2);
    } else if (trimmed.startsWith("//")) {
      const end = trimmed.indexOf("\n");
      text = end === -1 ? "" : trimmed.slice(end + 1);
    } else {
      text = trimmed;
      break;
    }
  }
  return JSON.parse(text);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether the app embed is on in parsed settings data. App embeds live in `current.blocks`
 * with a type like `shopify://apps/<app>/blocks/refersion-tracking/<uuid>`. Older themes keep
 * `current` as the name of a preset, whose settings then hold the blocks.
 */
export function embedStateInSettings(settingsData: unknown, blockHandle = EMBED_BLOCK_HANDLE): Exclude<ThemeEmbedState, "unknown"> {
  if (!isRecord(settingsData)) return "not_added";
  let current = settingsData.current;
  if (typeof current === "string" && isRecord(settingsData.presets)) current = settingsData.presets[current];
  if (!isRecord(current) || !isRecord(current.blocks)) return "not_added";
  const marker = `/blocks/${blockHandle}/`;
  const ours = Object.values(current.blocks).filter(
    (block): block is Record<string, unknown> =>
      isRecord(block) && typeof block.type === "string" && block.type.startsWith("shopify://apps/") && block.type.includes(marker),
  );
  if (ours.length === 0) return "not_added";
  return ours.some((block) => block.disabled !== true && block.disabled !== "true") ? "enabled" : "disabled";
}

const MAIN_THEME_SETTINGS_QUERY = `#graphql
  query MainThemeSettingsData {
    themes(first: 1, roles: [MAIN]) {
      nodes {
        id
        name
        files(filenames: ["config/settings_data.json"], first: 1) {
          nodes {
            filename
            body {
              __typename
              ... on OnlineStoreThemeFileBodyText { content }
              ... on OnlineStoreThemeFileBodyBase64 { contentBase64 }
            }
          }
        }
      }
    }
  }`;

interface MainThemeSettingsData {
  themes: {
    nodes: {
      id: string;
      name: string;
      files: { nodes: { filename: string; body: { __typename: string; content?: string; contentBase64?: string } | null }[] } | null;
    }[];
  };
}

/** Reads the live theme's settings through the Admin API (read_themes) and says whether our embed is on. */
export async function readThemeEmbedStatus(graphql: AdminGraphql, blockHandle = EMBED_BLOCK_HANDLE): Promise<ThemeEmbedStatus> {
  let data: MainThemeSettingsData;
  try {
    data = await adminGraphqlData<MainThemeSettingsData>(graphql, MAIN_THEME_SETTINGS_QUERY);
  } catch (error) {
    if (error instanceof AdminGraphqlError) {
      return { state: "unknown", themeName: null, problem: `The live theme could not be read (${error.message}).` };
    }
    throw error;
  }
  const theme = data.themes?.nodes?.[0];
  if (!theme) return { state: "unknown", themeName: null, problem: "The shop has no published theme." };
  const body = theme.files?.nodes?.[0]?.body;
  // A theme whose settings were never saved has no settings_data.json: nothing is switched on.
  if (!body) return { state: "not_added", themeName: theme.name, problem: null };
  const content =
    typeof body.content === "string"
      ? body.content
      : typeof body.contentBase64 === "string"
        ? Buffer.from(body.contentBase64, "base64").toString("utf8")
        : null;
  if (content === null) {
    return { state: "unknown", themeName: theme.name, problem: "The theme's settings file is too large to read here." };
  }
  try {
    return { state: embedStateInSettings(parseSettingsData(content), blockHandle), themeName: theme.name, problem: null };
  } catch {
    return { state: "unknown", themeName: theme.name, problem: "The theme's settings file could not be read." };
  }
}
