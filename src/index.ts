export * from './cloud-region';
export * from './environment';
export * from './cloud-environment';
export * from './invoker-role';
export * from './invoke-grant';
export * from './service-deployer';
export * from './service-registration';
export * from './request-identity';
