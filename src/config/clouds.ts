/** Falcon clouds and their API base URLs (facts from CrowdStrike's public SDKs). */
export const FALCON_CLOUDS = {
  'us-1': 'https://api.crowdstrike.com',
  'us-2': 'https://api.us-2.crowdstrike.com',
  'eu-1': 'https://api.eu-1.crowdstrike.com',
  'us-gov-1': 'https://api.laggar.gcw.crowdstrike.com',
  'us-gov-2': 'https://api.us-gov-2.crowdstrike.mil',
} as const;

export type FalconCloud = keyof typeof FALCON_CLOUDS;

export const FALCON_CLOUD_NAMES = Object.keys(FALCON_CLOUDS) as FalconCloud[];

export function isFalconCloud(value: string): value is FalconCloud {
  return Object.hasOwn(FALCON_CLOUDS, value);
}

/** True for the government Falcon clouds (autodiscovery does not work there). */
export function isGovCloud(cloud: FalconCloud): boolean {
  return cloud === 'us-gov-1' || cloud === 'us-gov-2';
}

export function falconBaseUrl(cloud: FalconCloud): string {
  return FALCON_CLOUDS[cloud];
}
