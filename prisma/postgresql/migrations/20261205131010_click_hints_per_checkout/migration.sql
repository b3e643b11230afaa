-- AlterTable
ALTER TABLE "ClickHint" DROP CONSTRAINT "ClickHint_pkey",
ADD COLUMN     "id" SERIAL NOT NULL,
ADD CONSTRAINT "ClickHint_pkey" PRIMARY KEY ("id");

-- CreateIndex
CREATE UNIQUE INDEX "ClickHint_shop_orderId_checkoutTokenHash_key" ON "ClickHint"("shop", "orderId", "checkoutTokenHash");

