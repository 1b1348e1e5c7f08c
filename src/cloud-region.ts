import { Token } from 'aws-cdk-lib';

/**
 * Describes a Restate Cloud region that is not (yet) built into the library.
 */
export interface RestateCloudRegionProps {
  /**
   * The region's short name, as it appears in environment host names
   * (`<id>.env.<name>.restate.cloud`), e.g. `us` or `eu`, or `<id>.byoc` for a bring-your-own-cloud
   * (BYOC) region.
   */
  readonly name: string;

  /**
   * The AWS account id from which Restate Cloud in this region assumes invoker roles. For a BYOC
   * region it is not documented: take it from your BYOC deployment (the account its Restate
   * runs in).
   */
  readonly accountId: string;

  /**
   * The name of the IAM role in `accountId` that Restate Cloud uses to assume invoker roles.
   *
   * @default 'RestateCloud'
   */
  readonly roleName?: string;

  /**
   * The AWS partition of `accountId`.
   *
   * @default 'aws'
   */
  readonly partition?: string;

  /**
   * The DNS domain under which this region's environments live.
   *
   * @default 'restate.cloud'
   */
  readonly domain?: string;
}

const REGION_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** BYOC regions are named `<id>.byoc`, as the tunnel client's `RESTATE_CLOUD_REGION` takes them. */
const BYOC_REGION_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.byoc$/;
const ACCOUNT_ID = /^\d{12}$/;

/**
 * A Restate Cloud region: where an environment lives and which AWS principal calls your
 * services from there.
 *
 * Use `RestateCloudRegion.US` or `RestateCloudRegion.EU`; describe any other region with
 * `RestateCloudRegion.of({ name, accountId })` without waiting for a library release, a
 * bring-your-own-cloud region too: `RestateCloudRegion.of({ name: 'abc123.byoc', accountId })`.
 */
export class RestateCloudRegion {
  /** Restate Cloud's `us` region. */
  public static readonly US = new RestateCloudRegion({ name: 'us', accountId: '654654156625' });

  /** Restate Cloud's `eu` region. */
  public static readonly EU = new RestateCloudRegion({ name: 'eu', accountId: '654654156625' });

  /**
   * The built-in region with this name, `'us'` or `'eu'`, as `@restatedev/restate-cdk` takes
   * regions. Describe any other region with `RestateCloudRegion.of()`.
   */
  public static fromName(name: string): RestateCloudRegion {
    const region = name === 'us' ? RestateCloudRegion.US : name === 'eu' ? RestateCloudRegion.EU : undefined;
    if (!region) {
      throw new Error(
        `RestateCloudRegion.fromName(): unknown region ${JSON.stringify(name)}: expected 'us' or 'eu'; describe any other region with RestateCloudRegion.of({ name, accountId }).`,
      );
    }
    return region;
  }

  /**
   * Describes a region that is not built into the library, e.g. a BYOC region (`<id>.byoc`).
   */
  public static of(props: RestateCloudRegionProps): RestateCloudRegion {
    return new RestateCloudRegion(props);
  }

  /** The region's short name, e.g. `us`. */
  public readonly name: string;

  /** The AWS account id Restate Cloud calls from in this region. */
  public readonly accountId: string;

  /** The IAM role Restate Cloud assumes invoker roles from, e.g. `arn:aws:iam::654654156625:role/RestateCloud`. */
  public readonly principalArn: string;

  /** The account root principal ARN that invoker roles trust, e.g. `arn:aws:iam::654654156625:root`. */
  public readonly accountPrincipalArn: string;

  /** The DNS domain of this region's environments, e.g. `restate.cloud`. */
  public readonly domain: string;

  /** Whether this is a bring-your-own-cloud region (named `<id>.byoc`). */
  public readonly byoc: boolean;

  private constructor(props: RestateCloudRegionProps) {
    const name = props?.name;
    if (typeof name !== 'string' || !(REGION_NAME.test(name) || BYOC_REGION_NAME.test(name))) {
      throw new Error(
        `RestateCloudRegion: invalid region name ${JSON.stringify(name)}: expected lowercase letters, digits or hyphens, e.g. 'us' or 'eu', ` +
          "or '<id>.byoc' for a bring-your-own-cloud region.",
      );
    }
    const byoc = BYOC_REGION_NAME.test(name);
    const accountId = props.accountId;
    if (typeof accountId !== 'string' || (!Token.isUnresolved(accountId) && !ACCOUNT_ID.test(accountId))) {
      // No default for BYOC: which account Restate runs in there is not documented.
      const where = byoc
        ? 'the 12-digit AWS account id your BYOC deployment\'s Restate calls from (not documented by Restate Cloud: take it from your BYOC deployment); it must be given explicitly'
        : "the 12-digit AWS account id Restate Cloud calls from in that region (see the environment's settings in the Restate Cloud UI)";
      throw new Error(`RestateCloudRegion '${name}': invalid accountId ${JSON.stringify(accountId)}: expected ${where}.`);
    }
    const roleName = props.roleName ?? 'RestateCloud';
    const partition = props.partition ?? 'aws';
    this.name = name;
    this.byoc = byoc;
    this.accountId = accountId;
    this.domain = props.domain ?? 'restate.cloud';
    this.principalArn = `arn:${partition}:iam::${accountId}:role/${roleName}`;
    this.accountPrincipalArn = `arn:${partition}:iam::${accountId}:root`;
  }
}
