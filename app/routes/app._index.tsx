import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { BlockStack, Page } from "@shopify/polaris";
import type { ReactNode } from "react";
import { HomeActionSchema, loadHomePage, type HomeView } from "../admin/home-page.server";
import { testConnectionFromAdmin } from "../admin/settings-page.server";
import { BackfillStoppedBanner } from "../components/BackfillStoppedBanner";
import { useAppHref } from "../components/embedded-links";
import { AttributionSources } from "../components/AttributionSources";
import { ConversionOutcomes } from "../components/ConversionOutcomes";
import { HomeActivityCard } from "../components/HomeActivityCard";
import { HomeStatusHeader } from "../components/HomeStatusHeader";
import { SetupGuide } from "../components/SetupGuide";
import { env } from "../env.server";
import { dismissSetupGuide } from "../settings/setup-guide.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session, admin } = await authenticate.admin(request);
  return loadHomePage({ shop: session.shop, graphql: admin.graphql, apiKey: env().SHOPIFY_API_KEY });
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = HomeActionSchema.safeParse(Object.fromEntries(await request.formData()));
  if (!form.success) throw new Response("Unknown action", { status: 400 });
  if (form.data.intent === "dismiss_setup_guide") {
    await dismissSetupGuide(session.shop);
    return { intent: "dismiss_setup_guide" as const };
  }
  return { intent: "test_connection" as const, connection: await testConnectionFromAdmin(session.shop) };
};

type Href = ReturnType<typeof useAppHref>;

/**
 * The home page's cards, top to bottom. A new card is one line here (and its data in HomeView):
 * each gets the page's data and the link builder.
 */
const HOME_CARDS: { id: string; render: (home: HomeView, href: Href) => ReactNode }[] = [
  { id: "status", render: (home) => <HomeStatusHeader status={home.status} attention={home.attention} /> },
  {
    id: "setup",
    render: (home, href) => <SetupGuide setup={home.setup} embed={home.embed} settingsUrl={href("/app/settings")} canTestConnection={home.hasKeys} />,
  },
  { id: "activity", render: (home, href) => <HomeActivityCard home={home} logUrl={href("/app/deliveries")} /> },
  { id: "attribution", render: (home) => <AttributionSources periods={home.attributionSources} /> },
  { id: "conversions", render: (home, href) => <ConversionOutcomes view={home.conversionOutcomes} settingsUrl={href("/app/settings")} /> },
];

export default function Home() {
  const home = useLoaderData<typeof loader>() as HomeView;
  const href = useAppHref();

  return (
    <Page title="Refersion order forwarding">
      <BlockStack gap="400">
        {home.stoppedBackfill ? <BackfillStoppedBanner stopped={home.stoppedBackfill} resendUrl={href("/app/backfill")} /> : null}
        {HOME_CARDS.map((card) => (
          <div key={card.id}>{card.render(home, href)}</div>
        ))}
      </BlockStack>
    </Page>
  );
}
